package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A create whose step failed and whose undo failed too leaves its record CREATING; a delete that
 * failed leaves one DELETING. The retry of a create of that name answered OK with such a record, as
 * if the volume or snapshot had been made; now it finishes letting go of the leftover and makes the
 * object afresh. Failures are a real dir engine's calls made to fail once.
 */
@Timeout(120)
class LeftoverRecordsTest {
    private static final long GIB = StorageConfig.GIB;

    @TempDir
    Path tmp;

    private final Set<String> failNext = ConcurrentHashMap.newKeySet();
    private DirEngine engine;
    private LocalStorage storage;

    @BeforeEach
    void setUp() throws IOException {
        Path dataDir = tmp.toRealPath();
        engine = new DirEngine(dataDir.resolve("engines").resolve(DirEngine.NAME), new Mounter(), new CommandRunner());
        storage = new LocalStorage(new StorageConfig(dataDir, "node-1", DirEngine.NAME, GIB, 3),
                new Engines(Map.of(DirEngine.NAME, failingOnce(engine)), Map.of()),
                new MountRecords(dataDir.resolve("records/node")), new LockTable());
    }

    @AfterEach
    void stop() throws InterruptedException {
        engine.close();
    }

    /** The engine, except that each call named in {@link #failNext} fails once, before it runs. */
    private VolumeEngine failingOnce(VolumeEngine real) {
        return (VolumeEngine) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {VolumeEngine.class},
                (proxy, method, args) -> {
                    if (failNext.remove(method.getName())) {
                        throw new IOException(method.getName() + " failed on purpose (a test's fault)");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static VolumeSpec spec(String name, ContentSource source) {
        return new VolumeSpec(name, GIB, 0, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(),
                Map.of(), source, List.of());
    }

    private void fails(Runnable call, String step) {
        UncheckedIOException e = assertThrows(UncheckedIOException.class, call::run);
        assertTrue(e.getMessage().contains(step + " failed on purpose"), e.getMessage());
        assertTrue(failNext.isEmpty(), "every planned failure happened: " + failNext);
    }

    private List<RecordState> states() {
        return storage.listAllVolumes().stream().map(VolumeRecord::state).toList();
    }

    @Test
    void aCreateWhoseUndoFailedIsMadeAfreshByItsRetry() throws IOException {
        failNext.addAll(Set.of("create", "delete"));
        fails(() -> storage.createVolume(spec("pvc-1", null)), "create");
        assertEquals(List.of(RecordState.CREATING), states());

        VolumeRecord made = storage.createVolume(spec("pvc-1", null));
        assertEquals(RecordState.READY, made.state());
        Files.writeString(engine.volumePath(made.id()).resolve("data"), "the volume was made");
        assertEquals(List.of(made), storage.listAllVolumes());
        assertEquals(made, storage.createVolume(spec("pvc-1", null)), "and a further retry answers it again");
    }

    @Test
    void aDeleteThatFailedIsFinishedByACreateOfTheSameName() throws IOException {
        VolumeRecord first = storage.createVolume(spec("pvc-2", null));
        Files.writeString(engine.volumePath(first.id()).resolve("old"), "of the volume being deleted");
        failNext.add("delete");
        fails(() -> storage.deleteVolume(first.id()), "delete");
        assertEquals(List.of(RecordState.DELETING), states());

        VolumeRecord again = storage.createVolume(spec("pvc-2", null));
        assertEquals(RecordState.READY, again.state());
        assertFalse(Files.exists(engine.volumePath(again.id()).resolve("old")), "a new volume, not the deleted one");
    }

    @Test
    void aSnapshotWhoseUndoFailedIsCutAfreshByItsRetry() throws IOException {
        VolumeRecord v = storage.createVolume(spec("pvc-3", null));
        Files.writeString(engine.volumePath(v.id()).resolve("f"), "kept");
        failNext.addAll(Set.of("snapshot", "deleteSnapshot"));
        fails(() -> storage.createSnapshot("snap-1", v.id(), Map.of(), Secrets.NONE), "snapshot");

        SnapshotRecord s = storage.createSnapshot("snap-1", v.id(), Map.of(), Secrets.NONE);
        assertEquals(RecordState.READY, s.state());
        assertEquals(Set.of(s.id()), engine.storedSnapshotIds());
        VolumeRecord restored = storage.createVolume(spec("pvc-restored", ContentSource.snapshot(s.id())));
        assertEquals("kept", Files.readString(engine.volumePath(restored.id()).resolve("f")));
    }

    @Test
    void aGroupSnapshotWhoseUndoFailedIsCutAfreshByItsRetry() throws IOException {
        VolumeRecord a = storage.createVolume(spec("pvc-a", null));
        VolumeRecord b = storage.createVolume(spec("pvc-b", null));
        failNext.addAll(Set.of("snapshotGroup", "deleteSnapshot"));
        fails(() -> storage.createGroupSnapshot("group-1", List.of(a.id(), b.id()), Map.of()), "snapshotGroup");

        GroupSnapshotRecord g = storage.createGroupSnapshot("group-1", List.of(a.id(), b.id()), Map.of());
        assertEquals(RecordState.READY, g.state());
        assertEquals(Set.copyOf(g.snapshotIds()), engine.storedSnapshotIds());
        for (String member : g.snapshotIds()) {
            assertEquals(RecordState.READY, storage.findSnapshot(member).orElseThrow().state());
        }
    }
}
