package dev.strata.node.storage;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.model.Ids;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import dev.strata.node.records.MountRecord;
import dev.strata.node.records.RecordStore;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class LocalStorageTest {
    private static final long GIB = StorageConfig.GIB;
    private static final String NODE = "node-1";

    @TempDir
    Path tmp;

    private Path dataDir;
    private StorageConfig config;
    private DirEngine engine;
    private MountRecords mountRecords;
    private LockTable locks;
    private LocalStorage storage;

    @BeforeEach
    void setUp() throws IOException {
        dataDir = tmp.toRealPath();
        config = new StorageConfig(dataDir, NODE, DirEngine.NAME, GIB, 3);
        engine = new DirEngine(dataDir.resolve("engines").resolve(DirEngine.NAME), new Mounter(), new CommandRunner());
        mountRecords = new MountRecords(dataDir.resolve("records/node"));
        locks = new LockTable();
        storage = open();
    }

    /** An orderly stop: the engine unmounts its volumes' loop filesystems, so the temporary directory goes. */
    @org.junit.jupiter.api.AfterEach
    void stop() throws InterruptedException {
        engine.close();
    }

    /** A LocalStorage over the same directories, as after a restart. */
    private LocalStorage open() throws IOException {
        return new LocalStorage(config, new Engines(Map.<String, VolumeEngine>of(DirEngine.NAME, engine), Map.of()),
                mountRecords, locks);
    }

    private static VolumeSpec spec(String name, long required, long limit, Map<String, String> parameters,
            ContentSource source) {
        return new VolumeSpec(name, required, limit, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), parameters,
                Map.of(), source, List.of());
    }

    private static VolumeSpec spec(String name) {
        return spec(name, 0, 0, Map.of(), null);
    }

    private <T> RecordStore<T> records(String kind, Class<T> type, java.util.function.Function<T, String> id)
            throws IOException {
        return new RecordStore<>(dataDir.resolve("records").resolve(kind), type, id, r -> false);
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ---- create ---------------------------------------------------------------------------------

    @Test
    void createVolume() throws IOException {
        VolumeRecord v = storage.createVolume(spec("pvc-1", 0, 0, Map.of("mode", "0750",
                "csi.storage.k8s.io/pvc/name", "data"), null));
        assertEquals(Ids.volumeId("pvc-1"), v.id());
        assertEquals("pvc-1", v.name());
        assertEquals(RecordState.READY, v.state());
        assertEquals(GIB, v.capacityBytes(), "no size asked: the default");
        assertEquals(DirEngine.NAME, v.engine());
        assertEquals("dir", v.parameters().get(LocalStorage.ENGINE_PARAMETER));
        assertEquals(NODE, v.nodeId());
        assertTrue(Files.isDirectory(engine.volumePath(v.id())));
        assertEquals(Optional.of(v), storage.findVolume(v.id()));
        assertEquals(List.of(v), storage.listVolumes());
        assertEquals(v, storage.findVolume(v.id()).orElseThrow());
        // the record is on disk
        assertEquals(v, records("volumes", VolumeRecord.class, VolumeRecord::id).get(v.id()).orElseThrow());
    }

    @Test
    void sizes() {
        assertEquals(5 * GIB, storage.createVolume(spec("a", 5 * GIB, 0, Map.of(), null)).capacityBytes());
        assertEquals(GIB / 2, storage.createVolume(spec("b", 0, GIB / 2, Map.of(), null)).capacityBytes());
        assertEquals(GIB, storage.createVolume(spec("c", 0, 4 * GIB, Map.of(), null)).capacityBytes());
        assertCsi(Code.OUT_OF_RANGE, "capacity_range.required_bytes",
                () -> storage.createVolume(spec("huge", Long.MAX_VALUE / 2, 0, Map.of(), null)));
        assertEquals(Optional.empty(), storage.findVolume(Ids.volumeId("huge")));
    }

    @Test
    void createIsIdempotent() throws IOException {
        VolumeRecord first = storage.createVolume(spec("pvc-1", 2 * GIB, 0, Map.of(), null));
        Path marker = Files.writeString(engine.volumePath(first.id()).resolve("data"), "x");
        VolumeRecord second = storage.createVolume(spec("pvc-1", 2 * GIB, 0, Map.of(), null));
        assertEquals(first, second);
        assertEquals(first, storage.createVolume(spec("pvc-1", GIB, 3 * GIB, Map.of(), null)), "compatible range");
        assertEquals(first, storage.createVolume(spec("pvc-1", 0, 0, Map.of("engine", "dir"), null)));
        assertEquals("x", Files.readString(marker));
        assertEquals(1, storage.listVolumes().size());
    }

    @Test
    void sameNameWithDifferentArgumentsIsAlreadyExists() {
        storage.createVolume(spec("pvc-1", 2 * GIB, 0, Map.of("mode", "0700"), null));
        CsiException e = assertCsi(Code.ALREADY_EXISTS, "name:",
                () -> storage.createVolume(spec("pvc-1", 3 * GIB, 0, Map.of("mode", "0700"), null)));
        assertTrue(e.getMessage().contains("capacity"), e.getMessage());
        assertCsi(Code.ALREADY_EXISTS, () -> storage.createVolume(spec("pvc-1", 0, GIB, Map.of("mode", "0700"), null)));
        e = assertCsi(Code.ALREADY_EXISTS, () -> storage.createVolume(spec("pvc-1", 0, 0, Map.of("mode", "0755"), null)));
        assertTrue(e.getMessage().contains("parameters"), e.getMessage());
        VolumeRecord other = storage.createVolume(spec("pvc-2"));
        e = assertCsi(Code.ALREADY_EXISTS, () -> storage.createVolume(spec("pvc-1", 0, 0, Map.of("mode", "0700"),
                ContentSource.volume(other.id()))));
        assertTrue(e.getMessage().contains("content source"), e.getMessage());
        assertEquals(2, storage.listVolumes().size());
    }

    @Test
    void badRequestsAreRefusedBeforeAnythingIsMade() throws IOException {
        assertCsi(Code.INVALID_ARGUMENT, "parameters.colour",
                () -> storage.createVolume(spec("a", 0, 0, Map.of("colour", "blue"), null)));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.engine",
                () -> storage.createVolume(spec("a", 0, 0, Map.of("engine", "zfs"), null)));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.mode",
                () -> storage.createVolume(spec("a", 0, 0, Map.of("mode", "999"), null)));
        assertCsi(Code.INVALID_ARGUMENT, "volume_capabilities", () -> storage.createVolume(new VolumeSpec("a", 0, 0,
                AccessType.BLOCK, Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of(), null, List.of())));
        assertCsi(Code.INVALID_ARGUMENT, "volume_capabilities", () -> storage.createVolume(new VolumeSpec("a", 0, 0,
                AccessType.MOUNT, Set.of(AccessMode.MULTI_NODE_MULTI_WRITER), Map.of(), Map.of(), null, List.of())));
        assertCsi(Code.INVALID_ARGUMENT, "mutable_parameters.engine", () -> storage.createVolume(new VolumeSpec("a", 0,
                0, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of("engine", "dir"), null,
                List.of())));
        assertCsi(Code.RESOURCE_EXHAUSTED, "accessibility_requirements", () -> storage.createVolume(new VolumeSpec("a",
                0, 0, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of(), null, List.of("node-2"))));
        assertCsi(Code.NOT_FOUND, "volume_content_source.snapshot",
                () -> storage.createVolume(spec("a", 0, 0, Map.of(), ContentSource.snapshot("snap-missing"))));
        assertCsi(Code.NOT_FOUND, "volume_content_source.volume",
                () -> storage.createVolume(spec("a", 0, 0, Map.of(), ContentSource.volume("vol-missing"))));
        assertEquals(List.of(), storage.listVolumes());
        assertEquals(Set.of(), engine.storedVolumeIds());
        assertEquals(List.of(), records("volumes", VolumeRecord.class, VolumeRecord::id).all());
    }

    @Test
    void busyVolumeIsAborted() {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(Ids.volumeId("pvc-1")))) {
            assertCsi(Code.ABORTED, () -> storage.createVolume(spec("pvc-1")));
        }
        storage.createVolume(spec("pvc-1"));
        assertEquals(1, storage.listVolumes().size());
    }

    @Test
    void snapshotsAndRestores() throws IOException {
        VolumeRecord source = storage.createVolume(spec("pvc-1", 2 * GIB, 0, Map.of(), null));
        Files.writeString(engine.volumePath(source.id()).resolve("data"), "v1");
        SnapshotRecord snap = storage.createSnapshot("snap-a", source.id(), Map.of(), Secrets.NONE);
        assertEquals(Ids.snapshotId("snap-a"), snap.id());
        assertEquals(RecordState.READY, snap.state());
        assertEquals(2 * GIB, snap.sizeBytes());
        assertEquals(snap, storage.createSnapshot("snap-a", source.id(), Map.of(), Secrets.NONE), "idempotent");
        VolumeRecord other = storage.createVolume(spec("pvc-2"));
        assertCsi(Code.ALREADY_EXISTS, () -> storage.createSnapshot("snap-a", other.id(), Map.of(), Secrets.NONE));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.x", () -> storage.createSnapshot("snap-b", source.id(),
                Map.of("x", "y"), Secrets.NONE));
        // What csi-snapshotter --extra-create-metadata adds to every CreateSnapshot (the real cluster's
        // snapshots all failed on it): the CO's own keys, taken and ignored.
        SnapshotRecord withMetadata = storage.createSnapshot("snap-meta", source.id(), Map.of(
                "csi.storage.k8s.io/volumesnapshot/name", "s", "csi.storage.k8s.io/volumesnapshot/namespace", "ns",
                "csi.storage.k8s.io/volumesnapshotcontent/name", "c"), Secrets.NONE);
        assertEquals(RecordState.READY, withMetadata.state());
        storage.deleteSnapshot(withMetadata.id(), Secrets.NONE);
        assertCsi(Code.NOT_FOUND, "source_volume_id", () -> storage.createSnapshot("snap-c", "vol-missing", Map.of(), Secrets.NONE));
        Files.writeString(engine.volumePath(source.id()).resolve("data"), "v2");

        VolumeRecord restored = storage.createVolume(spec("pvc-3", 0, 0, Map.of(), ContentSource.snapshot(snap.id())));
        assertEquals(2 * GIB, restored.capacityBytes(), "never smaller than its source");
        assertEquals("v1", Files.readString(engine.volumePath(restored.id()).resolve("data")));
        assertCsi(Code.OUT_OF_RANGE, "capacity_range.limit_bytes",
                () -> storage.createVolume(spec("pvc-4", 0, GIB, Map.of(), ContentSource.snapshot(snap.id()))));

        VolumeRecord clone = storage.createVolume(spec("pvc-5", 0, 0, Map.of(), ContentSource.volume(source.id())));
        assertEquals("v2", Files.readString(engine.volumePath(clone.id()).resolve("data")));

        storage.deleteSnapshot(snap.id(), Secrets.NONE);
        storage.deleteSnapshot(snap.id(), Secrets.NONE);
        assertEquals(List.of(), storage.listSnapshots());
        assertEquals(Set.of(), engine.storedSnapshotIds());
    }

    // ---- delete ---------------------------------------------------------------------------------

    @Test
    void deleteVolume() throws Exception {
        VolumeRecord v = storage.createVolume(spec("pvc-1"));
        storage.deleteVolume(v.id());
        assertEquals(Optional.empty(), storage.findVolume(v.id()));
        assertEquals(Set.of(), engine.storedVolumeIds());
        storage.deleteVolume(v.id());
        storage.deleteVolume("vol-never-existed");
        engine.drainTrash();
        assertEquals(List.of(), names(dataDir.resolve("engines/dir/trash")));
        assertEquals(List.of(), records("volumes", VolumeRecord.class, VolumeRecord::id).all());
    }

    @Test
    void deleteRefusedWhileTheNodeUsesTheVolume() throws IOException {
        VolumeRecord v = storage.createVolume(spec("pvc-1"));
        MountRecord staged = MountRecord.empty(v.id()).staged("/var/lib/kubelet/staging/x", null, AccessMode.SINGLE_NODE_WRITER,
                List.of());
        mountRecords.put(staged);
        assertEquals(List.of(NODE), storage.publishedNodes(v.id()));
        CsiException e = assertCsi(Code.FAILED_PRECONDITION, () -> storage.deleteVolume(v.id()));
        assertTrue(e.getMessage().contains(NODE), e.getMessage());
        assertEquals(Optional.of(v), storage.findVolume(v.id()));
        assertTrue(Files.isDirectory(engine.volumePath(v.id())));

        mountRecords.put(staged.unstaged());
        assertEquals(List.of(), storage.publishedNodes(v.id()));
        storage.deleteVolume(v.id());
        assertEquals(Optional.empty(), storage.findVolume(v.id()));
    }

    @Test
    void deleteRefusedWhilePublishedToANode() {
        VolumeRecord v = storage.createVolume(spec("pvc-1"));
        assertEquals(Map.of("strata.csi.dev/engine", "dir"),
                storage.publishVolume(v.id(), NODE, false, AccessMode.SINGLE_NODE_WRITER));
        assertCsi(Code.FAILED_PRECONDITION, () -> storage.deleteVolume(v.id()));
        storage.unpublishVolume(v.id(), NODE);
        storage.deleteVolume(v.id());
        assertEquals(List.of(), storage.listVolumes());
    }

    @Test
    void publishRules() {
        VolumeRecord v = storage.createVolume(spec("pvc-1"));
        storage.publishVolume(v.id(), NODE, false, AccessMode.SINGLE_NODE_WRITER);
        storage.publishVolume(v.id(), NODE, false, AccessMode.SINGLE_NODE_WRITER);
        assertEquals(1, storage.findVolume(v.id()).orElseThrow().attachments().size());
        assertCsi(Code.ALREADY_EXISTS, () -> storage.publishVolume(v.id(), NODE, true, AccessMode.SINGLE_NODE_WRITER));
        assertCsi(Code.NOT_FOUND, "node_id", () -> storage.publishVolume(v.id(), "node-2", false,
                AccessMode.SINGLE_NODE_WRITER));
        assertCsi(Code.NOT_FOUND, () -> storage.publishVolume("vol-missing", NODE, false, AccessMode.SINGLE_NODE_WRITER));
        storage.publishVolume(storage.createVolume(spec("pvc-2")).id(), NODE, false, AccessMode.SINGLE_NODE_WRITER);
        storage.publishVolume(storage.createVolume(spec("pvc-3")).id(), NODE, false, AccessMode.SINGLE_NODE_WRITER);
        VolumeRecord fourth = storage.createVolume(spec("pvc-4"));
        assertCsi(Code.RESOURCE_EXHAUSTED, () -> storage.publishVolume(fourth.id(), NODE, false,
                AccessMode.SINGLE_NODE_WRITER));
        storage.unpublishVolume(v.id(), "");
        storage.unpublishVolume(v.id(), "");
        storage.unpublishVolume("vol-missing", NODE);
        storage.publishVolume(fourth.id(), NODE, false, AccessMode.SINGLE_NODE_WRITER);
        assertEquals(List.of(NODE), storage.publishedNodes(fourth.id()));
    }

    // ---- recovery -------------------------------------------------------------------------------

    private VolumeRecord volumeRecord(String id, RecordState state) {
        return new VolumeRecord(id, "name-" + id, DirEngine.NAME, GIB, AccessType.MOUNT, Map.of("engine", "dir"),
                Map.of(), null, NODE, List.of(), state, Instant.now(), Map.of());
    }

    private SnapshotRecord snapshotRecord(String id, String volumeId, String group, RecordState state) {
        return new SnapshotRecord(id, "name-" + id, volumeId, DirEngine.NAME, GIB, group, state, Instant.now());
    }

    @Test
    void recoverFinishesOrUndoesInterruptedWork() throws Exception {
        RecordStore<VolumeRecord> volumes = records("volumes", VolumeRecord.class, VolumeRecord::id);
        RecordStore<SnapshotRecord> snapshots = records("snapshots", SnapshotRecord.class, SnapshotRecord::id);
        RecordStore<GroupSnapshotRecord> groups = records("groups", GroupSnapshotRecord.class, GroupSnapshotRecord::id);

        // what a clean run left
        VolumeRecord ready = volumeRecord("vol-ready", RecordState.READY);
        engine.create(ready);
        Files.writeString(engine.volumePath("vol-ready").resolve("data"), "keep");
        volumes.put(ready);
        SnapshotRecord readySnap = snapshotRecord("snap-ready", "vol-ready", null, RecordState.READY);
        engine.snapshot(readySnap, ready);
        snapshots.put(readySnap);
        SnapshotRecord okMember = snapshotRecord("snap-ok-member", "vol-ready", "group-ok", RecordState.READY);
        engine.snapshot(okMember, ready);
        snapshots.put(okMember);
        groups.put(new GroupSnapshotRecord("group-ok", "ok", List.of("vol-ready"), List.of("snap-ok-member"),
                RecordState.READY, Instant.now()));

        // what crashes left
        VolumeRecord creating = volumeRecord("vol-creating", RecordState.CREATING);
        engine.create(creating);
        volumes.put(creating);
        volumes.put(volumeRecord("vol-creating-no-storage", RecordState.CREATING));
        Files.createDirectories(dataDir.resolve("engines/dir/volumes/.partial-vol-creating-no-storage/half"));
        VolumeRecord deleting = volumeRecord("vol-deleting", RecordState.DELETING);
        engine.create(deleting);
        volumes.put(deleting);
        Files.createDirectories(dataDir.resolve("engines/dir/volumes/vol-orphan/sub"));
        Files.createDirectories(dataDir.resolve("engines/dir/volumes/.partial-vol-orphan-partial"));

        SnapshotRecord creatingSnap = snapshotRecord("snap-creating", "vol-ready", null, RecordState.CREATING);
        engine.snapshot(creatingSnap, ready);
        snapshots.put(creatingSnap);
        snapshots.put(snapshotRecord("snap-deleting", "vol-ready", null, RecordState.DELETING));
        Files.createDirectories(dataDir.resolve("engines/dir/snapshots/snap-orphan"));

        SnapshotRecord member1 = snapshotRecord("snap-m1", "vol-ready", "group-x", RecordState.READY);
        SnapshotRecord member2 = snapshotRecord("snap-m2", "vol-ready", "group-x", RecordState.CREATING);
        engine.snapshot(member1, ready);
        engine.snapshot(member2, ready);
        snapshots.put(member1);
        snapshots.put(member2);
        groups.put(new GroupSnapshotRecord("group-x", "x", List.of("vol-ready"), List.of("snap-m1", "snap-m2",
                "snap-m3-never-written"), RecordState.CREATING, Instant.now()));
        groups.put(new GroupSnapshotRecord("group-deleting", "d", List.of("vol-ready"), List.of(),
                RecordState.DELETING, Instant.now()));

        LocalStorage restarted = open();
        assertEquals(Optional.empty(), restarted.findVolume("vol-creating"), "a CREATING record is not served");
        restarted.recover();
        engine.drainTrash();

        assertEquals(List.of(ready), restarted.listVolumes());
        assertEquals(Set.of("vol-ready"), engine.storedVolumeIds());
        assertEquals("keep", Files.readString(engine.volumePath("vol-ready").resolve("data")));
        assertEquals(List.of("snap-ok-member", "snap-ready"),
                restarted.listSnapshots().stream().map(SnapshotRecord::id).toList());
        assertEquals(Set.of("snap-ok-member", "snap-ready"), engine.storedSnapshotIds());
        assertTrue(restarted.findGroupSnapshot("group-ok").isPresent());
        assertEquals(Optional.empty(), restarted.findGroupSnapshot("group-x"));
        assertEquals(List.of(), names(dataDir.resolve("engines/dir/trash")));

        // and on disk: only the settled records remain
        assertEquals(List.of("vol-ready"), records("volumes", VolumeRecord.class, VolumeRecord::id).all().stream()
                .map(VolumeRecord::id).toList());
        assertEquals(List.of("snap-ok-member", "snap-ready"), records("snapshots", SnapshotRecord.class,
                SnapshotRecord::id).all().stream().map(SnapshotRecord::id).toList());
        assertEquals(List.of("group-ok"), records("groups", GroupSnapshotRecord.class, GroupSnapshotRecord::id).all()
                .stream().map(GroupSnapshotRecord::id).toList());

        // recovering again changes nothing
        open().recover();
        assertEquals(Set.of("vol-ready"), engine.storedVolumeIds());
        assertEquals(Set.of("snap-ok-member", "snap-ready"), engine.storedSnapshotIds());
    }

    // ---- group snapshots --------------------------------------------------------------------------

    @Test
    void groupSnapshotCreateAndDelete() throws Exception {
        VolumeRecord a = storage.createVolume(spec("pvc-a"));
        VolumeRecord b = storage.createVolume(spec("pvc-b", 2 * GIB, 0, Map.of(), null));
        Files.writeString(engine.volumePath(a.id()).resolve("f"), "a");
        Files.writeString(engine.volumePath(b.id()).resolve("f"), "b");

        GroupSnapshotRecord g = storage.createGroupSnapshot("group-1", List.of(b.id(), a.id(), a.id()), Map.of());
        assertEquals(Ids.groupSnapshotId("group-1"), g.id());
        assertEquals(RecordState.READY, g.state());
        assertEquals(List.of(a.id(), b.id()).stream().sorted().toList(), g.sourceVolumeIds());
        assertEquals(2, g.snapshotIds().size());
        assertEquals(Optional.of(g), storage.findGroupSnapshot(g.id()));
        assertEquals(g, storage.createGroupSnapshot("group-1", List.of(a.id(), b.id()), Map.of()), "idempotent");
        assertCsi(Code.ALREADY_EXISTS, () -> storage.createGroupSnapshot("group-1", List.of(a.id()), Map.of()));

        for (String memberId : g.snapshotIds()) {
            SnapshotRecord m = storage.findSnapshot(memberId).orElseThrow();
            assertEquals(g.id(), m.groupSnapshotId());
            assertEquals(RecordState.READY, m.state());
            VolumeRecord source = storage.findVolume(m.sourceVolumeId()).orElseThrow();
            assertEquals(Ids.groupMemberSnapshotId(g.id(), source.id()), memberId);
            assertEquals(source.capacityBytes(), m.sizeBytes());
            VolumeRecord restored = storage.createVolume(spec("restore-" + source.name(), 0, 0, Map.of(),
                    ContentSource.snapshot(memberId)));
            assertEquals(Files.readString(engine.volumePath(source.id()).resolve("f")),
                    Files.readString(engine.volumePath(restored.id()).resolve("f")));
        }
        assertEquals(Set.copyOf(g.snapshotIds()), engine.storedSnapshotIds());

        String member = g.snapshotIds().get(0);
        CsiException e = assertCsi(Code.FAILED_PRECONDITION, () -> storage.deleteSnapshot(member, Secrets.NONE));
        assertTrue(e.getMessage().contains(g.id()), e.getMessage());
        assertTrue(storage.findSnapshot(member).isPresent());

        assertCsi(Code.INVALID_ARGUMENT, "snapshot_ids",
                () -> storage.deleteGroupSnapshot(g.id(), List.of(member)));
        storage.deleteGroupSnapshot(g.id(), List.copyOf(g.snapshotIds()));
        assertEquals(Optional.empty(), storage.findGroupSnapshot(g.id()));
        for (String id : g.snapshotIds()) {
            assertEquals(Optional.empty(), storage.findSnapshot(id));
        }
        assertEquals(Set.of(), engine.storedSnapshotIds());
        storage.deleteGroupSnapshot(g.id(), List.of());
        storage.deleteGroupSnapshot("group-unknown", List.of("snap-x"));
        assertEquals(4, storage.listVolumes().size(), "sources and restores remain");
    }

    @Test
    void groupSnapshotRefusals() {
        VolumeRecord a = storage.createVolume(spec("pvc-a"));
        assertCsi(Code.NOT_FOUND, "source_volume_ids",
                () -> storage.createGroupSnapshot("g", List.of(a.id(), "vol-missing"), Map.of()));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.p",
                () -> storage.createGroupSnapshot("g", List.of(a.id()), Map.of("p", "v")));
        assertEquals(Optional.empty(), storage.findGroupSnapshot(Ids.groupSnapshotId("g")));
        assertEquals(List.of(), storage.listSnapshots());
        GroupSnapshotRecord g = storage.createGroupSnapshot("g", List.of(a.id()), Map.of());
        assertNotEquals(Ids.snapshotId("g"), g.snapshotIds().get(0));
    }

    // ---- capacity and misc ------------------------------------------------------------------------

    @Test
    void capacityIsZeroForAnotherNode() {
        Capacity mine = storage.capacity(Map.of(), NODE);
        assertTrue(mine.availableBytes() > 0, mine.toString());
        assertTrue(storage.capacity(Map.of(), null).availableBytes() > 0);
        assertEquals(new Capacity(0, 0, 0), storage.capacity(Map.of(), "node-2"));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.engine", () -> storage.capacity(Map.of("engine", "nope"), NODE));
    }

    @Test
    void defaultEngineMustBeConfigured() {
        StorageConfig wrong = new StorageConfig(dataDir, NODE, "thin", GIB, 3);
        assertThrows(IllegalArgumentException.class, () -> new LocalStorage(wrong,
                new Engines(Map.<String, VolumeEngine>of(DirEngine.NAME, engine), Map.of()), mountRecords, locks));
    }

    @Test
    void healthAndNodes() throws IOException {
        // Without a limit, so that the volume's directory is a plain one that the test can remove.
        VolumeRecord v = storage.createVolume(spec("pvc-1", 0, 0, Map.of("sizeLimit", "none"), null));
        assertFalse(storage.health(v.id()).abnormal());
        assertCsi(Code.NOT_FOUND, () -> storage.health("vol-missing"));
        assertEquals(List.of(NODE), storage.nodes());
        assertEquals(DirEngine.NAME, storage.engineFor(Map.of()).name());
        dev.strata.node.engine.Trash.deleteTree(engine.volumePath(v.id()));
        assertTrue(storage.health(v.id()).abnormal());
    }

    @Test
    void expandAndModify() throws IOException {
        VolumeRecord v = storage.createVolume(spec("pvc-1"));
        assertEquals(v, storage.expandVolume(v.id(), GIB / 2, 0), "never shrinks");
        assertEquals(3 * GIB, storage.expandVolume(v.id(), 3 * GIB, 0).capacityBytes());
        assertEquals(3 * GIB, open().findVolume(v.id()).orElseThrow().capacityBytes());
        assertCsi(Code.OUT_OF_RANGE, () -> storage.expandVolume(v.id(), Long.MAX_VALUE / 2, 0));
        VolumeRecord modified = storage.modifyVolume(v.id(), Map.of("mode", "0711"));
        assertEquals("0711", modified.mutableParameters().get("mode"));
        assertEquals(0711, (Integer) Files.getAttribute(engine.volumePath(v.id()), "unix:mode") & 07777);
        assertCsi(Code.INVALID_ARGUMENT, "mutable_parameters.size",
                () -> storage.modifyVolume(v.id(), Map.of("size", "1")));
        assertCsi(Code.NOT_FOUND, () -> storage.modifyVolume("vol-missing", Map.of()));
    }
}
