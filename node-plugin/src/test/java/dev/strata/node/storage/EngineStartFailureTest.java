package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import io.grpc.Status;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An engine that fails to start (a thin pool whose metadata needs repair, say) stopped the whole
 * node plugin: no volume of any engine could then be staged, or left by its pods. Now it is made
 * unavailable with the reason, and the other engines serve.
 */
@Timeout(120)
class EngineStartFailureTest {
    private static final long GIB = StorageConfig.GIB;

    @TempDir
    Path tmp;

    private DirEngine dir;

    @AfterEach
    void stop() throws InterruptedException {
        if (dir != null) {
            dir.close();
        }
    }

    @Test
    void anEngineThatFailsToStartIsUnavailableAndTheOthersServe() throws IOException {
        Path dataDir = tmp.toRealPath();
        dir = new DirEngine(dataDir.resolve("engines").resolve(DirEngine.NAME), new Mounter(), new CommandRunner());
        AtomicBoolean closed = new AtomicBoolean();
        VolumeEngine broken = (VolumeEngine) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {VolumeEngine.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "start" -> throw new IOException("the pool's metadata needs repair (thin_check failed)");
                    case "close" -> {
                        closed.set(true);
                        yield null;
                    }
                    default -> throw new AssertionError("a failed engine was asked " + method.getName());
                });
        Engines engines = new Engines(Map.of(DirEngine.NAME, dir, "thin", broken), Map.of());
        LocalStorage storage = new LocalStorage(new StorageConfig(dataDir, "node-1", DirEngine.NAME, GIB, 3),
                engines, new MountRecords(dataDir.resolve("records/node")), new LockTable());

        storage.recover();

        assertTrue(closed.get(), "what the failed start had begun is let go");
        String why = engines.unavailable().get("thin");
        assertTrue(why != null && why.contains("failed to start: the pool's metadata needs repair"), "" + why);
        CsiException refused = assertThrows(CsiException.class, () -> engines.get("thin"));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.code());
        assertTrue(refused.getMessage().contains("needs repair"), refused.getMessage());
        assertEquals(List.of(dir), List.copyOf(engines.all()));

        var made = storage.createVolume(new VolumeSpec("pvc-1", GIB, 0, AccessType.MOUNT,
                Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of(), null, List.of()));
        assertEquals(RecordState.READY, made.state());
        assertTrue(Files.isDirectory(dir.volumePath(made.id())), "the dir engine still makes volumes");
    }
}
