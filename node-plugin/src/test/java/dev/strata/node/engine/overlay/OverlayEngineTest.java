package dev.strata.node.engine.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.size.LoopFilesystem;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overlay engine on real overlay and loop mounts: size limits with ENOSPC and online growth,
 * snapshots that copy only what changed (whiteouts and opaque directories included), flattening,
 * and reopening after the mounts are gone.
 */
@Timeout(300)
class OverlayEngineTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path tmp;

    private Path root;
    private final Mounter mounter = new Mounter();
    private final CommandRunner runner = new CommandRunner();
    private OverlayEngine engine;
    private final List<Path> staged = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: overlay and loop mounts");
        root = tmp.toRealPath().resolve("overlay");
        engine = open(4);
    }

    private OverlayEngine open(int flattenDepth) throws IOException {
        OverlayEngine e = new OverlayEngine(root, mounter, runner, new LoopFilesystem(mounter, runner), flattenDepth);
        e.start();
        return e;
    }

    @AfterEach
    void unmountAll() throws IOException {
        if (root == null) {
            return;
        }
        for (Path p : MountTable.read().under(root)) {
            mounter.unmount(p);
        }
        for (Path p : MountTable.read().under(tmp.toRealPath())) {
            mounter.unmount(p);
        }
    }

    private static VolumeRecord volume(String id, long bytes, ContentSource source) {
        return new VolumeRecord(id, id, OverlayEngine.NAME, bytes, AccessType.MOUNT, Map.of(), Map.of(), source,
                "node", List.of(), RecordState.CREATING, Instant.now(), Map.of());
    }

    private static SnapshotRecord snapshot(String id, String volumeId) {
        return new SnapshotRecord(id, id, volumeId, OverlayEngine.NAME, 0, null, RecordState.CREATING, Instant.now());
    }

    private VolumeRecord create(String id, long bytes, ContentSource source) throws IOException {
        VolumeRecord v = volume(id, bytes, source);
        engine.create(v);
        return v;
    }

    private Path stage(VolumeRecord v) throws IOException {
        Path target = Files.createDirectories(tmp.resolve("staging").resolve(v.id()));
        engine.stage(v, target, BindOptions.NONE);
        staged.add(target);
        return target;
    }

    private void unstage(VolumeRecord v, Path target) throws IOException {
        engine.unstage(v, target);
    }

    private static void fill(Path file, long bytes) throws IOException {
        byte[] chunk = new byte[(int) MIB];
        java.util.Arrays.fill(chunk, (byte) 'x');
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.SYNC)) {
            for (long written = 0; written < bytes; written += chunk.length) {
                out.write(chunk);
            }
        }
    }

    /** Every path below {@code dir} with its content ("<dir>" for directories). */
    private static Map<String, String> tree(Path dir) throws IOException {
        Map<String, String> all = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(p -> !p.equals(dir)).toList()) {
                all.put(dir.relativize(p).toString(), Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "<dir>"
                        : Files.readString(p));
            }
        }
        return all;
    }

    private Path layer(String name) {
        return root.resolve("layers").resolve(name);
    }

    private List<String> chain(String snapshotId) throws IOException {
        return Files.readAllLines(root.resolve("snapshots").resolve(snapshotId));
    }

    @Test
    void writesPastTheSizeFailWithEnospcAndDeleteLeavesNothing() throws Exception {
        VolumeRecord v = create("vol-size", 32 * MIB, null);
        assertEquals(Map.of("sizeLimit", "loop-ext4"), engine.attributes(v));
        assertFalse(Files.exists(root.resolve("volumes").resolve(v.id()).resolve("disk.img")),
                "the filesystem is made when the volume is first used, not when it is created");
        Path live = stage(v);
        IOException full = assertThrows(IOException.class, () -> fill(live.resolve("big"), 48 * MIB));
        assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), full.toString());
        Files.delete(live.resolve("big"));
        fill(live.resolve("fits"), 16 * MIB);
        unstage(v, live);

        Path image = root.resolve("volumes").resolve(v.id()).resolve("disk.img");
        engine.delete(v.id());
        assertFalse(Files.exists(root.resolve("volumes").resolve(v.id())));
        // The trash's thread unmounts the volume's filesystem, and autoclear frees the loop device, right after.
        for (int i = 0; i < 100 && !MountTable.read().under(root).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), MountTable.read().under(root), "the loop filesystem is unmounted");
        String loops = "";
        for (int i = 0; i < 100 && !(loops = runner.run("losetup", "-j", image.toString()).stdout().strip()).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals("", loops, "no loop device is left");
    }

    @Test
    void expansionRaisesTheLimitWhileTheVolumeIsInUse() throws IOException {
        Assumptions.assumeTrue(Posix.hasCapability(Posix.CAP_SYS_RESOURCE),
                "growing a mounted ext4 needs CAP_SYS_RESOURCE, which this machine's root lacks");
        VolumeRecord v = create("vol-grow", 32 * MIB, null);
        Path live = stage(v);
        long before = LibC.statvfs(live).totalBytes();
        engine.expand(v.withCapacity(96 * MIB), 96 * MIB);
        long after = LibC.statvfs(live).totalBytes();
        assertTrue(after > before + 48 * MIB, "the filesystem grew online: " + before + " -> " + after);
        fill(live.resolve("big"), 48 * MIB);
        assertEquals(48 * MIB, Files.size(live.resolve("big")));
        unstage(v, live);
    }

    @Test
    void withoutTheCapabilityAVolumeNotInUseIsGrownUnmountedAndOneInUseIsRefused() throws IOException {
        Assumptions.assumeFalse(Posix.hasCapability(Posix.CAP_SYS_RESOURCE), "this process can grow ext4 online");
        VolumeRecord v = create("vol-offline", 32 * MIB, null);
        Path live = stage(v);
        fill(live.resolve("data"), 8 * MIB);
        long before = LibC.statvfs(live).totalBytes();
        CsiException e = assertThrows(CsiException.class, () -> engine.expand(v.withCapacity(96 * MIB), 96 * MIB));
        assertEquals(io.grpc.Status.Code.FAILED_PRECONDITION, e.code(), "CSI's answer for a volume in use");
        assertTrue(e.getMessage().contains("CAP_SYS_RESOURCE"), e.getMessage());
        assertEquals(before, LibC.statvfs(live).totalBytes(), "a refused expansion changes nothing");
        unstage(v, live);

        engine.expand(v.withCapacity(96 * MIB), 96 * MIB);
        Path again = stage(v);
        assertTrue(LibC.statvfs(again).totalBytes() > before + 48 * MIB, "grown while unmounted");
        assertEquals(8 * MIB, Files.size(again.resolve("data")), "the data survived the resize");
        fill(again.resolve("more"), 48 * MIB);
        unstage(v, again);
    }

    @Test
    void aVolumeComesBackAfterItsMountsAreGone() throws Exception {
        VolumeRecord v = create("vol-reboot", 32 * MIB, null);
        Path live = stage(v);
        Files.writeString(live.resolve("data.txt"), "survives");
        unstage(v, live);
        // A reboot takes every mount; a new engine on the same directory reopens the volumes.
        for (Path p : MountTable.read().under(root)) {
            mounter.unmount(p);
        }
        engine = open(4);
        Path again = stage(v);
        assertEquals("survives", Files.readString(again.resolve("data.txt")));
        unstage(v, again);
    }

    /**
     * A power cut during a volume's first stage may keep its new filesystem but not the directories
     * made in it (PowerCutVmTest found one: the journal had not committed them). The start finishes
     * them, so that the volume reads as healthy, as it is: nothing was written to it.
     */
    @Test
    void aStartFinishesTheDirectoriesOfAFirstStageCutShort() throws Exception {
        VolumeRecord v = create("vol-cut", 32 * MIB, null);
        unstage(v, stage(v));
        Path fs = root.resolve("volumes").resolve(v.id()).resolve("fs");
        Files.delete(fs.resolve("upper"));
        Trash.deleteTree(fs.resolve("work"));
        assertTrue(engine.health(v).abnormal(), "the state the cut left: " + engine.health(v));
        for (Path p : MountTable.read().under(root)) {
            mounter.unmount(p);
        }

        engine = open(4);

        assertFalse(engine.health(v).abnormal(), engine.health(v).toString());
        assertTrue(Files.isDirectory(fs.resolve("work")));
        Path again = stage(v);
        Files.writeString(again.resolve("data.txt"), "usable");
        unstage(v, again);
    }

    @Test
    void laterSnapshotsCopyOnlyWhatChangedAndKeepDeletionsAndReplacements() throws Exception {
        // A base snapshot with a directory that the volume will later replace (opaque in the upper).
        VolumeRecord seed = create("vol-seed", 64 * MIB, null);
        Path seedView = stage(seed);
        Files.createDirectories(seedView.resolve("lowdir"));
        Files.writeString(seedView.resolve("lowdir/from-base.txt"), "base");
        Files.writeString(seedView.resolve("low.txt"), "base");
        engine.snapshot(snapshot("snap-base", seed.id()), seed);
        unstage(seed, seedView);

        VolumeRecord v = create("vol-delta", 64 * MIB, ContentSource.snapshot("snap-base"));
        Path live = stage(v);
        fill(live.resolve("big.bin"), 8 * MIB);
        Files.writeString(live.resolve("keep.txt"), "one");
        Files.writeString(live.resolve("drop.txt"), "one");
        Files.createDirectories(live.resolve("dir/sub"));
        Files.writeString(live.resolve("dir/sub/a.txt"), "one");
        Files.delete(live.resolve("lowdir/from-base.txt"));
        Files.delete(live.resolve("lowdir"));
        Files.createDirectories(live.resolve("lowdir")); // replaced: opaque in the upper
        Files.writeString(live.resolve("lowdir/new.txt"), "one");
        engine.snapshot(snapshot("snap-1", v.id()), v);
        Map<String, String> atFirst = tree(live);

        Files.writeString(live.resolve("keep.txt"), "two");
        Files.delete(live.resolve("drop.txt"));
        Files.delete(live.resolve("low.txt")); // from the base layer: a whiteout in the upper
        Files.delete(live.resolve("dir/sub/a.txt"));
        Files.delete(live.resolve("dir/sub"));
        Files.writeString(live.resolve("lowdir/second.txt"), "two");
        engine.snapshot(snapshot("snap-2", v.id()), v);
        Map<String, String> atSecond = tree(live);

        assertEquals(List.of("snap-2", "snap-1", "snap-base"), chain("snap-2"), "the change stacks on the last snapshot");
        assertFalse(Files.exists(layer("snap-2").resolve("big.bin")), "what did not change is not copied again");
        assertTrue(Files.exists(layer("snap-1").resolve("big.bin")));

        Files.writeString(live.resolve("after.txt"), "not in any snapshot");
        VolumeRecord r1 = create("vol-r1", 64 * MIB, ContentSource.snapshot("snap-1"));
        VolumeRecord r2 = create("vol-r2", 64 * MIB, ContentSource.snapshot("snap-2"));
        Path view1 = stage(r1);
        Path view2 = stage(r2);
        assertEquals(atFirst, tree(view1));
        assertEquals(atSecond, tree(view2));
        assertFalse(atSecond.containsKey("low.txt") || atSecond.containsKey("drop.txt")
                || atSecond.containsKey("dir/sub") || atSecond.containsKey("lowdir/from-base.txt"));
        assertEquals("one", atSecond.get("lowdir/new.txt"), "an opaque directory keeps its unchanged content");
        unstage(r1, view1);
        unstage(r2, view2);
        unstage(v, live);
    }

    @Test
    void deepChainsAreFlattenedInTheBackgroundAndOldLayersCollected() throws Exception {
        VolumeRecord v = create("vol-deep", 32 * MIB, null);
        Path live = stage(v);
        for (int i = 1; i <= 6; i++) {
            Files.writeString(live.resolve("file-" + i), "v" + i);
            if (i > 1) {
                Files.delete(live.resolve("file-" + (i - 1)));
            }
            engine.snapshot(snapshot("snap-" + i, v.id()), v);
        }
        Map<String, String> expected = tree(live);
        engine.awaitFlattening();
        assertEquals(1, chain("snap-5").size(), "five layers deep, flattened: " + chain("snap-5"));
        // snap-6 stacked on snap-5's chain as it was then: flat already, or flattened in turn.
        assertTrue(chain("snap-6").size() <= 2, "snap-6: " + chain("snap-6"));
        VolumeRecord restored = create("vol-flat", 32 * MIB, ContentSource.snapshot("snap-6"));
        Path view = stage(restored);
        assertEquals(expected, tree(view));
        unstage(restored, view);
        unstage(v, live);
        engine.delete(v.id());
        for (int i = 1; i <= 6; i++) {
            engine.deleteSnapshot("snap-" + i);
        }
        List<String> restoreChain = Files.readAllLines(root.resolve("volumes").resolve(restored.id()).resolve("chain"));
        try (Stream<Path> left = Files.list(root.resolve("layers"))) {
            assertEquals(restoreChain.stream().sorted().toList(),
                    left.map(p -> p.getFileName().toString()).sorted().toList(), "only the restore's layers are left");
        }
        engine.delete(restored.id());
        try (Stream<Path> left = Files.list(root.resolve("layers"))) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void aStartAfterACrashDropsHalfBuiltLayersAndFlattensWhatIsTooDeep() throws Exception {
        VolumeRecord v = create("vol-crash", 32 * MIB, null);
        Path live = stage(v);
        engine = open(100); // no flattening while the chain grows
        for (int i = 1; i <= 5; i++) {
            Files.writeString(live.resolve("file-" + i), "v" + i);
            engine.snapshot(snapshot("snap-" + i, v.id()), v);
        }
        Map<String, String> expected = tree(live);
        // What a crash in the middle of a flatten leaves: a half copy, and a copy no chain names yet.
        Files.createDirectories(layer(".partial-flat-snap-5-5").resolve("half"));
        Files.createDirectories(layer("flat-snap-5-5-old"));
        engine = open(4);
        engine.awaitFlattening();
        assertFalse(Files.exists(layer(".partial-flat-snap-5-5")));
        assertFalse(Files.exists(layer("flat-snap-5-5-old")));
        assertEquals(1, chain("snap-5").size(), "flattened at start: " + chain("snap-5"));
        VolumeRecord restored = create("vol-after", 32 * MIB, ContentSource.snapshot("snap-5"));
        Path view = stage(restored);
        assertEquals(expected, tree(view));
        unstage(restored, view);
        unstage(v, live);
    }

    @Test
    void restoresOfAGibibyteAndOfAHundredThousandFilesCopyNothing() throws Exception {
        VolumeRecord v = create("vol-large", 2048 * MIB, null);
        Path live = stage(v);
        fill(live.resolve("one-gib.bin"), 1024 * MIB);
        for (int d = 0; d < 100; d++) {
            Path dir = Files.createDirectories(live.resolve("d" + d));
            for (int f = 0; f < 1000; f++) {
                Files.write(dir.resolve("f" + f), new byte[] {(byte) f});
            }
        }
        engine.snapshot(snapshot("snap-large", v.id()), v);
        unstage(v, live);

        VolumeRecord restored = create("vol-large-r", 2048 * MIB, ContentSource.snapshot("snap-large"));
        Path upper = root.resolve("volumes").resolve(restored.id()).resolve("fs/upper");
        Path view = stage(restored);
        try (Stream<Path> inUpper = Files.list(upper)) {
            assertEquals(0, inUpper.count(), "a restore copies nothing into its own upper directory");
        }
        assertEquals(1024 * MIB, Files.size(view.resolve("one-gib.bin")));
        long files;
        try (Stream<Path> all = Files.walk(view)) {
            files = all.filter(Files::isRegularFile).count();
        }
        assertEquals(100_001, files);
        assertEquals(123, Files.readAllBytes(view.resolve("d99/f123"))[0]);
        unstage(restored, view);
    }

    /** A snapshot that fails after the copy leaves nothing of it (the copy held a tenant's files). */
    @Test
    void aFailedSnapshotLeavesNoPartialLayer() throws Exception {
        VolumeRecord v = create("vol-fails", 64 * MIB, null);
        Path live = stage(v);
        Files.writeString(live.resolve("data"), "tenant's");
        // Something else stands where the layer is to go, so the rename at the end fails.
        Files.writeString(root.resolve("layers").resolve("snap-fails"), "in the way");
        assertThrows(IOException.class, () -> engine.snapshot(snapshot("snap-fails", v.id()), v));
        try (Stream<Path> layers = Files.list(root.resolve("layers"))) {
            assertEquals(List.of("snap-fails"), layers.map(p -> p.getFileName().toString()).toList(),
                    "no .partial- layer left behind");
        }
        unstage(v, live);
    }
}
