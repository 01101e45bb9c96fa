package dev.strata.node.engine.dir;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeUsage;
import dev.strata.node.engine.size.LoopFilesystem;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.Posix;
import io.grpc.Status.Code;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Directory volumes held to their size on this host, whose kernel has no quotas: each gets an ext4
 * filesystem of its own on a loop device. {@code SizedDirVmTest} runs the project-quota mechanism
 * and online growth on Debian's kernel.
 */
@Timeout(300)
class SizedDirVolumeTest {
    static final long MIB = 1L << 20;

    @TempDir
    Path tmp;

    private final Mounter mounter = new Mounter();
    private final CommandRunner runner = new CommandRunner();
    private Path root;
    private DirEngine engine;

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: loop devices and mounts");
        root = tmp.toRealPath().resolve("engine");
        engine = DirEngine.withLimit(root, mounter, runner, new LoopFilesystem(mounter, runner));
        engine.start();
    }

    @AfterEach
    void unmountAll() throws IOException {
        if (root != null) {
            for (Path p : MountTable.read().under(tmp.toRealPath())) {
                mounter.detach(p);
            }
        }
    }

    static VolumeRecord volume(String id, long bytes, Map<String, String> parameters, ContentSource source) {
        return new VolumeRecord(id, "pvc-" + id, DirEngine.NAME, bytes, AccessType.MOUNT, parameters, Map.of(), source,
                "node-1", List.of(), RecordState.CREATING, Instant.now(), Map.of());
    }

    /** Writes {@code bytes} of a repeating pattern; the write that finds the volume full throws. */
    static void write(Path file, long bytes) throws IOException {
        byte[] chunk = new byte[(int) MIB];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) (i * 31);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long n = 0; n < bytes; n += chunk.length) {
                out.write(chunk);
            }
            out.flush();
        }
    }

    static void assertFull(IOException e) {
        String message = String.valueOf(e.getMessage());
        assertTrue(message.contains("No space left on device") || message.contains("Disk quota exceeded"),
                e.toString());
    }

    private List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private void assertNothingLeftOf(String volumeId) throws Exception {
        engine.drainTrash();
        assertEquals(List.of(), MountTable.read().under(root), "mounts left");
        assertFalse(engine.storedVolumeIds().contains(volumeId), "storage left");
        assertEquals("", runner.run("losetup", "-n", "-O", "BACK-FILE", "-l").stdout().lines()
                .filter(l -> l.contains(root.toString())).reduce("", String::concat), "loop devices left");
    }

    @Test
    void writesPastTheSizeFailAndTheStatsReportTheSizeAsTheTotal() throws Exception {
        VolumeRecord v = volume("vol-1", 32 * MIB, Map.of(), null);
        engine.create(v);
        assertEquals(Map.of("sizeLimit", LoopFilesystem.NAME), engine.attributes(v));
        Path tree = engine.volumePath(v.id());
        assertEquals(List.of(), names(tree), "a new volume is empty: the filesystem's lost+found is not in it");
        assertEquals(0755, (Integer) Files.getAttribute(tree, "unix:mode") & 07777);

        Path staging = Files.createDirectories(tmp.resolve("staging"));
        engine.stage(v, staging, BindOptions.NONE);
        assertFull(assertThrows(IOException.class, () -> write(staging.resolve("big"), 48 * MIB)));
        VolumeUsage usage = engine.usage(v, staging);
        assertEquals(32 * MIB, usage.totalBytes());
        assertTrue(usage.usedBytes() > 20 * MIB, "the full volume's used bytes: " + usage.usedBytes());
        assertCsi(Code.FAILED_PRECONDITION, "volume is still mounted at " + staging,
                () -> engine.requireDeletable(v.id()));

        engine.unstage(v, staging);
        engine.delete(v.id());
        assertNothingLeftOf(v.id());
    }

    /**
     * kubelet unstages a volume only when no mount outside its own directories shows the staged
     * filesystem at the same path within it; the node plugin's own mount of the volume's filesystem
     * must not be one (the real cluster met it: every loop-backed volume stayed staged, undeletable).
     */
    @Test
    void theStagedMountHasNoTwinThatKeepsKubeletFromUnstaging() throws Exception {
        VolumeRecord v = volume("vol-twin", 32 * MIB, Map.of(), null);
        engine.create(v);
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        engine.stage(v, staging, BindOptions.NONE);
        try {
            MountTable mounts = MountTable.read();
            MountTable.Entry staged = mounts.at(staging.toRealPath()).orElseThrow();
            List<Path> twins = mounts.entries().stream()
                    .filter(e -> e.id() != staged.id() && e.majorMinor().equals(staged.majorMinor())
                            && e.root().equals(staged.root()))
                    .map(MountTable.Entry::mountPoint).toList();
            assertEquals(List.of(), twins, "mounts that show what " + staging + " shows (" + staged.root() + ")");
            assertTrue(mounts.entries().stream().anyMatch(e -> e.id() != staged.id()
                    && e.majorMinor().equals(staged.majorMinor())), "the engine keeps its own mount of the filesystem");
        } finally {
            engine.unstage(v, staging);
        }
        engine.delete(v.id());
        assertNothingLeftOf(v.id());
    }

    @Test
    void expansionRaisesTheLimit() throws Exception {
        VolumeRecord v = volume("vol-grow", 32 * MIB, Map.of(), null);
        engine.create(v);
        write(engine.volumePath(v.id()).resolve("first"), 16 * MIB);
        // Not in use: this host's root lacks CAP_SYS_RESOURCE, so the image grows unmounted;
        // SizedDirVmTest grows one in use.
        engine.expand(v, 96 * MIB);
        VolumeRecord grown = v.withCapacity(96 * MIB);
        write(engine.volumePath(v.id()).resolve("second"), 48 * MIB);
        assertEquals(16 * MIB, Files.size(engine.volumePath(v.id()).resolve("first")));
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        engine.stage(grown, staging, BindOptions.NONE);
        assertEquals(96 * MIB, engine.usage(grown, staging).totalBytes());
        engine.unstage(grown, staging);
        engine.delete(v.id());
        assertNothingLeftOf(v.id());
    }

    @Test
    void sizeLimitNoneSharesTheFilesystemsFreeSpace() throws Exception {
        VolumeRecord v = volume("vol-free", 4 * MIB, Map.of("sizeLimit", "none"), null);
        engine.create(v);
        assertEquals(Map.of("sizeLimit", "none"), engine.attributes(v));
        assertEquals(root.resolve("volumes").resolve(v.id()), engine.volumePath(v.id()));
        write(engine.volumePath(v.id()).resolve("big"), 8 * MIB);
        assertEquals(8 * MIB, Files.size(engine.volumePath(v.id()).resolve("big")));
        engine.delete(v.id());
        assertNothingLeftOf(v.id());
    }

    @Test
    void aRestoreAndACloneAreHeldToTheirOwnSize() throws Exception {
        VolumeRecord source = volume("vol-src", 32 * MIB, Map.of(), null);
        engine.create(source);
        write(engine.volumePath(source.id()).resolve("data"), 8 * MIB);
        engine.snapshot(new SnapshotRecord("snap-1", "snap-1", source.id(), DirEngine.NAME, 32 * MIB, null,
                RecordState.CREATING, Instant.now()), source);
        VolumeRecord restored = volume("vol-restored", 16 * MIB, Map.of(), ContentSource.snapshot("snap-1"));
        VolumeRecord clone = volume("vol-clone", 16 * MIB, Map.of(), ContentSource.volume(source.id()));
        for (VolumeRecord v : List.of(restored, clone)) {
            engine.create(v);
            Path tree = engine.volumePath(v.id());
            assertEquals(List.of("data"), names(tree));
            assertArrayEquals(Files.readAllBytes(engine.volumePath(source.id()).resolve("data")),
                    Files.readAllBytes(tree.resolve("data")), v.id());
            assertFull(assertThrows(IOException.class, () -> write(tree.resolve("more"), 16 * MIB)));
        }
        for (String id : List.of(restored.id(), clone.id(), source.id())) {
            engine.delete(id);
        }
        engine.deleteSnapshot("snap-1");
        assertNothingLeftOf(source.id());
    }

    @Test
    void aCreateCutShortIsStartedAgainOrDeletedWithNothingLeft() throws Exception {
        VolumeRecord broken = volume("vol-cut", 32 * MIB, Map.of(), ContentSource.snapshot("snap-missing"));
        assertThrows(IOException.class, () -> engine.create(broken)); // after its filesystem was made and mounted
        assertTrue(engine.storedVolumeIds().contains(broken.id()), "the partial volume is found by its ID");
        engine.delete(broken.id());
        assertNothingLeftOf(broken.id());

        VolumeRecord v = volume("vol-again", 32 * MIB, Map.of(), ContentSource.snapshot("snap-missing"));
        assertThrows(IOException.class, () -> engine.create(v));
        VolumeRecord retried = volume("vol-again", 32 * MIB, Map.of(), null);
        engine.create(retried);
        engine.create(retried); // idempotent
        assertEquals(List.of(), names(engine.volumePath(v.id())));
        assertEquals(List.of(v.id()), names(root.resolve(SizedVolumes.DIR)));
        engine.delete(v.id());
        assertNothingLeftOf(v.id());
    }

    @Test
    void anOrderlyStopUnmountsAndTheNextStartMountsAgain() throws Exception {
        VolumeRecord v = volume("vol-restart", 32 * MIB, Map.of(), null);
        engine.create(v);
        write(engine.volumePath(v.id()).resolve("kept"), MIB);
        Path fs = root.resolve("volumes").resolve(v.id()); // where every directory volume's tree is
        assertTrue(MountTable.read().isMountPoint(fs));
        engine.close();
        assertFalse(MountTable.read().isMountPoint(fs), "an orderly stop leaves nothing of its own mounted");
        assertTrue(engine.health(v).abnormal(), "unmounted, the limit does not hold");
        assertTrue(engine.health(v).message().contains("own filesystem is not mounted"), engine.health(v).message());

        engine = DirEngine.withLimit(root, mounter, runner, new LoopFilesystem(mounter, runner));
        engine.start();
        assertTrue(MountTable.read().isMountPoint(fs));
        assertFalse(engine.health(v).abnormal(), engine.health(v).message());
        assertEquals(MIB, Files.size(engine.volumePath(v.id()).resolve("kept")));
        engine.delete(v.id());
        assertNothingLeftOf(v.id());
    }

    @Test
    void aBadSizeLimitValueIsRefusedNamingTheField() {
        assertCsi(Code.INVALID_ARGUMENT, "parameters.sizeLimit: invalid value \"off\"",
                () -> engine.validateParameters("parameters", Map.of("sizeLimit", "off")));
        engine.validateParameters("parameters", Map.of("sizeLimit", "none"));
        engine.validateParameters("parameters", Map.of("sizeLimit", "auto"));
    }
}
