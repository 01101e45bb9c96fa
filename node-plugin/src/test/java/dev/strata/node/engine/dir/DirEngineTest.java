package dev.strata.node.engine.dir;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeUsage;
import dev.strata.node.engine.Trash;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.Posix;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class DirEngineTest {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    @TempDir
    Path tmp;

    private Path root;
    private final Mounter mounter = new Mounter();
    private DirEngine engine;

    @BeforeEach
    void setUp() throws IOException {
        // mountinfo shows real paths; resolve any symlink in the temp dir's path
        root = tmp.toRealPath().resolve("engine");
        engine = new DirEngine(root, mounter, new CommandRunner());
    }

    /**
     * A volume without a size limit, as {@code sizeLimit: none} makes it: these tests are about the
     * directory itself; {@link SizedDirVolumeTest} covers the limits.
     */
    static VolumeRecord volume(String id, Map<String, String> parameters, Map<String, String> mutable,
            ContentSource source) {
        Map<String, String> unlimited = new java.util.HashMap<>(parameters);
        unlimited.putIfAbsent("sizeLimit", "none");
        return new VolumeRecord(id, "pvc-" + id, DirEngine.NAME, 1L << 30, AccessType.MOUNT, unlimited, mutable,
                source, "node-1", List.of(), RecordState.CREATING, Instant.now(), Map.of());
    }

    static VolumeRecord volume(String id) {
        return volume(id, Map.of(), Map.of(), null);
    }

    static SnapshotRecord snapshot(String id, String sourceVolumeId) {
        return new SnapshotRecord(id, "snap-" + id, sourceVolumeId, DirEngine.NAME, 1L << 30, null, RecordState.CREATING,
                Instant.now());
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW) & 07777;
    }

    private static int uid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", NOFOLLOW);
    }

    private static int gid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:gid", NOFOLLOW);
    }

    private static long inode(Path p) throws IOException {
        return (Long) Files.getAttribute(p, "unix:ino", NOFOLLOW);
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void chmod(Path p, int mode) throws IOException {
        Posix.chmod(p, mode);
    }

    private static void lchown(Path p, int uid, int gid) throws IOException {
        Posix.lchown(p, uid, gid);
    }

    // ---- create -----------------------------------------------------------------------------------

    @Test
    void createEmpty() throws IOException {
        engine.create(volume("vol-1"));
        Path path = engine.volumePath("vol-1");
        assertEquals(root.resolve("volumes/vol-1"), path);
        assertTrue(Files.isDirectory(path, NOFOLLOW));
        assertEquals(List.of(), names(path));
        assertEquals(List.of("vol-1"), names(root.resolve("volumes")), "no partial left behind");
    }

    @Test
    void createIsIdempotent() throws IOException {
        engine.create(volume("vol-1"));
        Path marker = Files.writeString(engine.volumePath("vol-1").resolve("data"), "written by a pod");
        engine.create(volume("vol-1"));
        assertEquals("written by a pod", Files.readString(marker));
        // even when the repeat names a source, the existing volume is left as it is
        engine.create(volume("vol-1", Map.of("mode", "0700"), Map.of(), ContentSource.snapshot("snap-missing")));
        assertEquals("written by a pod", Files.readString(marker));
    }

    @Test
    void leftoverPartialIsReplaced() throws IOException {
        Path partial = Files.createDirectories(root.resolve("volumes/.partial-vol-1/half"));
        Files.writeString(partial.resolve("copied-so-far"), "junk");
        engine.create(volume("vol-1"));
        assertEquals(List.of(), names(engine.volumePath("vol-1")));
        assertEquals(List.of("vol-1"), names(root.resolve("volumes")));
    }

    /** Fills a volume with a file of each kind; owners need root. */
    private void populate(Path v) throws IOException {
        Files.createDirectories(v.resolve("dir/sub"));
        Files.writeString(v.resolve("dir/file.txt"), "hello");
        chmod(v.resolve("dir/file.txt"), 0640);
        chmod(v.resolve("dir"), 0710);
        Files.write(v.resolve("dir/sub/binary"), new byte[] {0, 1, 2, (byte) 255});
        Files.createLink(v.resolve("dir/hardlink.txt"), v.resolve("dir/file.txt"));
        Files.createSymbolicLink(v.resolve("symlink"), Path.of("dir/file.txt"));
        Files.createSymbolicLink(v.resolve("dangling"), Path.of("/nonexistent/strata-target"));
        Files.setLastModifiedTime(v.resolve("dir/sub/binary"), FileTime.from(Instant.parse("2020-01-02T03:04:05Z")));
        if (Posix.isRoot()) {
            lchown(v.resolve("dir/file.txt"), 1234, 1234);
            lchown(v.resolve("symlink"), 1235, 1236);
            Files.writeString(v.resolve("suid-tool"), "#!/bin/sh\n");
            lchown(v.resolve("suid-tool"), 1234, 1234);
            chmod(v.resolve("suid-tool"), 04755);
        }
    }

    private void assertPopulated(Path v) throws IOException {
        assertEquals("hello", Files.readString(v.resolve("dir/file.txt")));
        assertEquals(0640, mode(v.resolve("dir/file.txt")));
        assertEquals(0710, mode(v.resolve("dir")));
        assertTrue(java.util.Arrays.equals(new byte[] {0, 1, 2, (byte) 255}, Files.readAllBytes(v.resolve("dir/sub/binary"))));
        assertEquals(Instant.parse("2020-01-02T03:04:05Z"), Files.getLastModifiedTime(v.resolve("dir/sub/binary")).toInstant());
        assertEquals(inode(v.resolve("dir/file.txt")), inode(v.resolve("dir/hardlink.txt")), "hard link kept");
        assertEquals(2, (Integer) Files.getAttribute(v.resolve("dir/file.txt"), "unix:nlink"));
        assertTrue(Files.isSymbolicLink(v.resolve("symlink")));
        assertEquals(Path.of("dir/file.txt"), Files.readSymbolicLink(v.resolve("symlink")));
        assertEquals("hello", Files.readString(v.resolve("symlink")));
        assertTrue(Files.isSymbolicLink(v.resolve("dangling")));
        assertEquals(Path.of("/nonexistent/strata-target"), Files.readSymbolicLink(v.resolve("dangling")));
        if (Posix.isRoot()) {
            assertEquals(1234, uid(v.resolve("dir/file.txt")));
            assertEquals(1234, gid(v.resolve("dir/file.txt")));
            assertEquals(1235, uid(v.resolve("symlink")));
            assertEquals(1236, gid(v.resolve("symlink")));
            assertEquals(04755, mode(v.resolve("suid-tool")));
            assertEquals(1234, uid(v.resolve("suid-tool")));
        }
    }

    @Test
    void createFromSnapshotCopiesEverything() throws IOException {
        engine.create(volume("vol-src"));
        Path src = engine.volumePath("vol-src");
        populate(src);
        engine.snapshot(snapshot("snap-1", "vol-src"), volume("vol-src"));
        assertEquals(List.of("snap-1"), names(root.resolve("snapshots")));
        assertPopulated(engine.snapshotPath("snap-1"));

        // later writes to the source do not reach the snapshot
        Files.writeString(src.resolve("dir/file.txt"), "changed");
        Files.writeString(src.resolve("after-snapshot"), "x");

        engine.create(volume("vol-restored", Map.of(), Map.of(), ContentSource.snapshot("snap-1")));
        Path restored = engine.volumePath("vol-restored");
        assertPopulated(restored);
        assertFalse(Files.exists(restored.resolve("after-snapshot")));
        assertNotEquals(inode(src.resolve("dir/file.txt")), inode(restored.resolve("dir/file.txt")));
        // the restored volume is independent of the snapshot
        Files.writeString(restored.resolve("dir/file.txt"), "mine");
        assertEquals("hello", Files.readString(engine.snapshotPath("snap-1").resolve("dir/file.txt")));
    }

    @Test
    void createFromVolumeCopiesEverything() throws IOException {
        engine.create(volume("vol-src"));
        populate(engine.volumePath("vol-src"));
        engine.create(volume("vol-clone", Map.of(), Map.of(), ContentSource.volume("vol-src")));
        assertPopulated(engine.volumePath("vol-clone"));
        assertPopulated(engine.volumePath("vol-src"));
        assertEquals(List.of("vol-clone", "vol-src"), names(root.resolve("volumes")));
    }

    @Test
    void createFromAMissingSourceFailsAndLeavesNothing() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> engine.create(volume("vol-1", Map.of(), Map.of(), ContentSource.snapshot("snap-missing"))));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        assertEquals(List.of(), names(root.resolve("volumes")));
    }

    @Test
    void snapshotIsIdempotentAndReplacesAPartial() throws IOException {
        engine.create(volume("vol-src"));
        Files.writeString(engine.volumePath("vol-src").resolve("a"), "1");
        Files.createDirectories(root.resolve("snapshots/.partial-snap-1/junk"));
        engine.snapshot(snapshot("snap-1", "vol-src"), volume("vol-src"));
        Files.writeString(engine.volumePath("vol-src").resolve("a"), "2");
        engine.snapshot(snapshot("snap-1", "vol-src"), volume("vol-src"));
        assertEquals(List.of("a"), names(engine.snapshotPath("snap-1")));
        assertEquals("1", Files.readString(engine.snapshotPath("snap-1").resolve("a")));
        assertEquals(List.of("snap-1"), names(root.resolve("snapshots")));
    }

    // ---- parameters -------------------------------------------------------------------------------

    @Test
    void modeParameterApplied() throws IOException {
        engine.create(volume("vol-1", Map.of("mode", "0750"), Map.of(), null));
        assertEquals(0750, mode(engine.volumePath("vol-1")));
        engine.create(volume("vol-2", Map.of("mode", "2775"), Map.of(), null));
        assertEquals(02775, mode(engine.volumePath("vol-2")), "setgid is kept");
        // mutable parameters are applied after the StorageClass ones
        engine.create(volume("vol-3", Map.of("mode", "0700"), Map.of("mode", "0755"), null));
        assertEquals(0755, mode(engine.volumePath("vol-3")));
    }

    @Test
    void modifyAppliesToAnExistingVolume() throws IOException {
        engine.create(volume("vol-1"));
        engine.modify(volume("vol-1"), Map.of("mode", "0711"));
        assertEquals(0711, mode(engine.volumePath("vol-1")));
    }

    @Test
    void ownerParametersApplied() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: chown");
        engine.create(volume("vol-1", Map.of("uid", "1000", "gid", "2000", "mode", "0770"), Map.of(), null));
        Path v = engine.volumePath("vol-1");
        assertEquals(1000, uid(v));
        assertEquals(2000, gid(v));
        assertEquals(0770, mode(v));
        engine.create(volume("vol-2", Map.of("gid", "3000"), Map.of(), null));
        assertEquals(0, uid(engine.volumePath("vol-2")), "an absent uid leaves the owner alone");
        assertEquals(3000, gid(engine.volumePath("vol-2")));
        engine.modify(volume("vol-2"), Map.of("uid", "4000"));
        assertEquals(4000, uid(engine.volumePath("vol-2")));
        assertEquals(3000, gid(engine.volumePath("vol-2")));
    }

    @Test
    void parametersOnAClonedRootOverrideTheSource() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: chown");
        engine.create(volume("vol-src", Map.of("uid", "1000", "mode", "0700"), Map.of(), null));
        engine.create(volume("vol-clone", Map.of("uid", "2000", "mode", "0755"), Map.of(), ContentSource.volume("vol-src")));
        assertEquals(2000, uid(engine.volumePath("vol-clone")));
        assertEquals(0755, mode(engine.volumePath("vol-clone")));
        engine.create(volume("vol-plain-clone", Map.of(), Map.of(), ContentSource.volume("vol-src")));
        assertEquals(1000, uid(engine.volumePath("vol-plain-clone")), "no parameter: the source's owner is copied");
        assertEquals(0700, mode(engine.volumePath("vol-plain-clone")));
    }

    @Test
    void validateParametersRefusesBadValuesNamingTheKey() {
        engine.validateParameters("parameters", Map.of("mode", "0775", "uid", "0", "gid", "65534"));
        engine.validateParameters("parameters", Map.of("mode", "7777", "uid", "2147483647"));
        engine.validateParameters("parameters", Map.of("engine", "dir", "other", "ignored here"));
        CsiException mode = assertCsi(Code.INVALID_ARGUMENT, "parameters.mode: ",
                () -> engine.validateParameters("parameters", Map.of("mode", "999")));
        assertTrue(mode.getMessage().contains("\"999\""), mode.getMessage());
        assertCsi(Code.INVALID_ARGUMENT, "parameters.mode: ",
                () -> engine.validateParameters("parameters", Map.of("mode", "10000")));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.mode: ",
                () -> engine.validateParameters("parameters", Map.of("mode", "rwxr-xr-x")));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.uid: ",
                () -> engine.validateParameters("parameters", Map.of("uid", "-1")));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.uid: ",
                () -> engine.validateParameters("parameters", Map.of("uid", "root")));
        assertCsi(Code.INVALID_ARGUMENT, "mutable_parameters.gid: ",
                () -> engine.validateParameters("mutable_parameters", Map.of("gid", "2147483648")));
        assertCsi(Code.INVALID_ARGUMENT, "mutable_parameters.gid: ",
                () -> engine.validateParameters("mutable_parameters", Map.of("gid", "")));
    }

    @Test
    void badParameterChangesNothing() throws IOException {
        assertCsi(Code.INVALID_ARGUMENT, () -> engine.create(volume("vol-1", Map.of("mode", "999"), Map.of(), null)));
        assertFalse(Files.exists(engine.volumePath("vol-1")));
    }

    // ---- delete and inventory ----------------------------------------------------------------------

    @Test
    void deleteIsIdempotentAndRemovesPartials() throws Exception {
        engine.create(volume("vol-1"));
        Files.writeString(engine.volumePath("vol-1").resolve("data"), "x");
        Files.createDirectories(root.resolve("volumes/.partial-vol-1"));
        engine.delete("vol-1");
        assertEquals(List.of(), names(root.resolve("volumes")));
        engine.delete("vol-1");
        engine.delete("vol-never-created");
        engine.drainTrash();
        assertEquals(List.of(), names(root.resolve("trash")));
    }

    @Test
    void deleteSnapshotIsIdempotentAndRemovesPartials() throws Exception {
        engine.create(volume("vol-src"));
        engine.snapshot(snapshot("snap-1", "vol-src"), volume("vol-src"));
        Files.createDirectories(root.resolve("snapshots/.partial-snap-2"));
        engine.deleteSnapshot("snap-1");
        engine.deleteSnapshot("snap-1");
        engine.deleteSnapshot("snap-2");
        assertEquals(List.of(), names(root.resolve("snapshots")));
        engine.drainTrash();
        assertEquals(List.of(), names(root.resolve("trash")));
        assertTrue(Files.isDirectory(engine.volumePath("vol-src")), "the source volume stays");
    }

    @Test
    void storedIdsIncludePartialsByTheirId() throws IOException {
        assertEquals(Set.of(), engine.storedVolumeIds());
        assertEquals(Set.of(), engine.storedSnapshotIds());
        engine.create(volume("vol-a"));
        Files.createDirectories(root.resolve("volumes/.partial-vol-b"));
        engine.snapshot(snapshot("snap-a", "vol-a"), volume("vol-a"));
        Files.createDirectories(root.resolve("snapshots/.partial-snap-b"));
        assertEquals(Set.of("vol-a", "vol-b"), engine.storedVolumeIds());
        assertEquals(Set.of("snap-a", "snap-b"), engine.storedSnapshotIds());
    }

    @Test
    void leftoverTrashIsReclaimedByANewEngine() throws Exception {
        Files.createDirectories(root.resolve("trash/vol-old.1/deep/er"));
        Files.writeString(root.resolve("trash/vol-old.1/deep/er/f"), "x");
        DirEngine restarted = new DirEngine(root, mounter, new CommandRunner());
        restarted.drainTrash();
        assertEquals(List.of(), names(root.resolve("trash")));
    }

    @Test
    void deleteRefusedWhileSomethingIsMountedInside() throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mount");
        engine.create(volume("vol-1"));
        Path inside = Files.createDirectories(engine.volumePath("vol-1").resolve("nested/mnt"));
        Path other = Files.createDirectories(tmp.toRealPath().resolve("other"));
        Files.writeString(other.resolve("keep"), "must survive");
        try {
            mounter.bind(other, inside, BindOptions.NONE);
            CsiException e = assertCsi(Code.FAILED_PRECONDITION, () -> engine.delete("vol-1"));
            assertTrue(e.getMessage().contains(inside.toString()), e.getMessage());
            assertTrue(Files.isDirectory(engine.volumePath("vol-1")), "nothing was moved");
        } finally {
            mounter.unmount(inside);
        }
        assertFalse(MountTable.read().isMountPoint(inside));
        engine.delete("vol-1");
        engine.drainTrash();
        assertFalse(Files.exists(engine.volumePath("vol-1")));
        assertEquals("must survive", Files.readString(other.resolve("keep")));
    }

    @Test
    void aVolumeWhoseNameExtendsAMountedOneCanBeDeleted() throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mount");
        engine.create(volume("vol-1"));
        engine.create(volume("vol-10"));
        Path inside = Files.createDirectories(engine.volumePath("vol-10").resolve("mnt"));
        try {
            mounter.bind(tmp.toRealPath(), inside, BindOptions.NONE);
            engine.delete("vol-1");
            assertFalse(Files.exists(engine.volumePath("vol-1")));
        } finally {
            mounter.unmount(inside);
        }
    }

    // ---- stage ------------------------------------------------------------------------------------

    @Test
    void stageAndUnstage() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mount");
        engine.create(volume("vol-1"));
        Path staging = Files.createDirectories(tmp.toRealPath().resolve("staging"));
        try {
            engine.stage(volume("vol-1"), staging, BindOptions.NONE);
            MountTable.Entry entry = MountTable.read().at(staging).orElseThrow();
            assertFalse(entry.readOnly());
            Files.writeString(staging.resolve("through-mount"), "x");
            assertEquals("x", Files.readString(engine.volumePath("vol-1").resolve("through-mount")));

            VolumeUsage usage = engine.usage(volume("vol-1"), staging);
            assertTrue(usage.totalBytes() > 0 && usage.totalInodes() > 0, usage.toString());

            engine.unstage(volume("vol-1"), staging);
            assertFalse(MountTable.read().isMountPoint(staging));
            assertFalse(Files.exists(staging.resolve("through-mount")));
            engine.unstage(volume("vol-1"), staging); // already unstaged
        } finally {
            mounter.unmount(staging);
        }
    }

    @Test
    void stageReadOnly() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mount");
        engine.create(volume("vol-1"));
        Path staging = Files.createDirectories(tmp.toRealPath().resolve("staging"));
        try {
            engine.stage(volume("vol-1"), staging, BindOptions.NONE.withReadOnly(true));
            assertTrue(MountTable.read().at(staging).orElseThrow().readOnly());
            FileSystemException e = assertThrows(FileSystemException.class,
                    () -> Files.writeString(staging.resolve("f"), "x"));
            assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
            // the volume itself stays writable
            Files.writeString(engine.volumePath("vol-1").resolve("f"), "x");
        } finally {
            mounter.unmount(staging);
        }
    }

    // ---- usage, health, capacity ---------------------------------------------------------------

    @Test
    void usageGivesPositiveTotals() throws IOException {
        engine.create(volume("vol-1"));
        VolumeUsage u = engine.usage(volume("vol-1"), engine.volumePath("vol-1"));
        assertTrue(u.totalBytes() > 0, u.toString());
        assertTrue(u.usedBytes() >= 0 && u.usedBytes() <= u.totalBytes(), u.toString());
        assertTrue(u.availableBytes() > 0 && u.availableBytes() <= u.totalBytes(), u.toString());
        assertTrue(u.totalInodes() > 0, u.toString());
        assertEquals(u.totalInodes(), u.usedInodes() + u.freeInodes());
        assertThrows(IOException.class, () -> engine.usage(volume("vol-1"), tmp.resolve("missing")));
    }

    @Test
    void healthOkThenAbnormalOnceTheDirectoryIsGone() throws IOException {
        engine.create(volume("vol-1"));
        assertEquals(VolumeHealth.OK, engine.health(volume("vol-1")));
        Trash.deleteTree(engine.volumePath("vol-1"));
        VolumeHealth h = engine.health(volume("vol-1"));
        assertTrue(h.abnormal());
        assertTrue(h.message().contains("missing"), h.message());
    }

    @Test
    void healthAbnormalWhenTheDirectoryIsReplacedByASymlink() throws IOException {
        engine.create(volume("vol-1"));
        Trash.deleteTree(engine.volumePath("vol-1"));
        Files.createSymbolicLink(engine.volumePath("vol-1"), tmp);
        assertTrue(engine.health(volume("vol-1")).abnormal());
    }

    @Test
    void capacityIsPositive() throws IOException {
        Capacity c = engine.capacity();
        assertTrue(c.availableBytes() > 0, c.toString());
        assertTrue(c.maximumVolumeBytes() >= c.availableBytes(), c.toString());
        assertEquals(0, c.minimumVolumeBytes());
    }

    @Test
    void traitsDescribeADirectoryEngine() {
        assertEquals("dir", engine.traits().name());
        assertEquals(Set.of(AccessType.MOUNT), engine.traits().accessTypes());
        Set<String> io = Set.of("readBytesPerSecond", "writeBytesPerSecond", "readIOPS", "writeIOPS");
        assertEquals(union(Set.of("mode", "uid", "gid", "sizeLimit"), io), engine.traits().parameterKeys());
        assertEquals(union(Set.of("mode", "uid", "gid"), io), engine.traits().mutableParameterKeys());
        assertEquals(Set.of(""), engine.traits().fsTypes());
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
