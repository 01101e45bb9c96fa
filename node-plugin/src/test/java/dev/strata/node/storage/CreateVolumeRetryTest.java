package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CreateVolume retried after its source snapshot was deleted: the request is the one that made
 * the volume, so it is answered with it. It was ALREADY_EXISTS: the engine was worked out anew from
 * the source, which was gone, so the node's default engine stood in and differed.
 */
@Timeout(120)
class CreateVolumeRetryTest {
    private static final long GIB = StorageConfig.GIB;

    @TempDir
    Path tmp;

    private DirEngine dir;

    @AfterEach
    void stop() throws InterruptedException {
        dir.close();
    }

    /** The node's default engine, which this test never uses: it only says what it offers. */
    private static VolumeEngine otherDefault() {
        EngineTraits traits = new EngineTraits("other", Set.of(AccessType.MOUNT), Set.of(AccessMode.SINGLE_NODE_WRITER),
                Set.of(), Set.of(), Set.of(), false);
        return (VolumeEngine) Proxy.newProxyInstance(CreateVolumeRetryTest.class.getClassLoader(),
                new Class<?>[] {VolumeEngine.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "traits" -> traits;
                    case "start", "validateParameters" -> null;
                    case "storedVolumeIds", "storedSnapshotIds" -> Set.of();
                    default -> throw new AssertionError("the default engine was asked " + method.getName());
                });
    }

    @Test
    void aRetryAfterTheSourceSnapshotWentIsAnsweredWithTheVolume() throws IOException {
        Path dataDir = tmp.toRealPath();
        dir = new DirEngine(dataDir.resolve("engines").resolve(DirEngine.NAME), new Mounter(), new CommandRunner());
        LocalStorage storage = new LocalStorage(new StorageConfig(dataDir, "node-1", "other", GIB, 3),
                new Engines(Map.of(DirEngine.NAME, dir, "other", otherDefault()), Map.of()),
                new MountRecords(dataDir.resolve("records/node")), new LockTable());
        storage.recover();
        VolumeRecord source = storage.createVolume(spec("pvc-source", Map.of("engine", DirEngine.NAME), null));
        String snapshot = storage.createSnapshot("snap-1", source.id(), Map.of(), Secrets.NONE).id();
        VolumeSpec restore = spec("pvc-restored", Map.of(), ContentSource.snapshot(snapshot));
        VolumeRecord restored = storage.createVolume(restore);
        assertEquals(DirEngine.NAME, restored.engine(), "a restore takes its snapshot's engine");

        storage.deleteSnapshot(snapshot, Secrets.NONE);
        assertEquals(restored, storage.createVolume(restore), "the retry, its answer lost the first time");
    }

    private static VolumeSpec spec(String name, Map<String, String> parameters, ContentSource source) {
        return new VolumeSpec(name, GIB, 0, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), parameters,
                Map.of(), source, List.of());
    }
}
