package dev.strata.driver;

import static dev.strata.driver.SnapshotUploads.awaitStored;
import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.Snapshot;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Snapshots kept off the node (issue 16), through the CSI socket of two standalone drivers, two
 * "hosts" that share nothing but the backup target (a directory, Convoy's vfs): one cuts and uploads a
 * snapshot, the other makes a volume from it, and the trees are compared byte for byte.
 */
class RemoteSnapshotTest {
    @RegisterExtension
    final CsiHarness hostA = new CsiHarness();

    @RegisterExtension
    final CsiHarness hostB = new CsiHarness();

    @TempDir
    Path shared;

    private String target() {
        return "file://" + shared.resolve("target");
    }

    static CreateSnapshotRequest remote(String name, String volumeId, String target) {
        return CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(volumeId)
                .putParameters("backupTarget", target).build();
    }

    static void fill(Path dir, long seed) throws IOException {
        Random random = new Random(seed);
        Files.createDirectories(dir.resolve("a/b"));
        byte[] big = new byte[3 << 20];
        random.nextBytes(big);
        Files.write(dir.resolve("a/big.bin"), big);
        Files.writeString(dir.resolve("a/b/small.txt"), "small " + seed);
        Files.write(dir.resolve("empty"), new byte[0]);
        Files.createSymbolicLink(dir.resolve("link"), Path.of("a/b/small.txt"));
    }

    static CreateVolumeRequest fromBackup(String name, String url) {
        return Csi.createVolume(name).putParameters("fromBackup", url).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"dir", "shared", "hostpath"})
    void aRemoteSnapshotIsRestoredOnAnotherHostWhileAWriterAppendsToTheSource(String engine) throws Exception {
        String volume = hostA.controller().createVolume(Csi.createVolume("pvc-src").putParameters("engine", engine)
                .build()).getVolume().getVolumeId();
        Path data = tree(hostA, volume, "pvc-src", engine);
        fill(data, 1);
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            try (var out = Files.newOutputStream(data.resolve("log"))) {
                while (writing.get()) {
                    out.write("a line the writer appends\n".getBytes());
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        Snapshot cut;
        try {
            Thread.sleep(50);
            cut = hostA.controller().createSnapshot(remote("snap-1", volume, target())).getSnapshot();
        } finally {
            writing.set(false);
            writer.join();
        }
        Snapshot stored = awaitStored(hostA::controller, remote("snap-1", volume, target()));
        assertEquals(cut.getSnapshotId(), stored.getSnapshotId());
        assertTrue(hostA.listSnapshots(ListSnapshotsRequest.getDefaultInstance()).stream()
                .anyMatch(s -> s.getSnapshotId().equals(cut.getSnapshotId()) && s.getReadyToUse()));

        CreateVolumeRequest restore = Csi.createVolume("pvc-moved").putParameters("engine", engine)
                .putParameters("fromBackup", target() + "#" + cut.getSnapshotId()).build();
        String restored = hostB.controller().createVolume(restore).getVolume().getVolumeId();
        // What was acknowledged is the snapshot as cut on host A, whatever the writer added after.
        Path snapshot = hostA.dataDir().resolve("engines").resolve(engine).resolve("snapshots")
                .resolve(cut.getSnapshotId());
        assertSameTree(snapshot, tree(hostB, restored, "pvc-moved", engine));
        assertEquals(3 << 20, Files.size(tree(hostB, restored, "pvc-moved", engine).resolve("a/big.bin")));
        assertEquals(restored, hostB.controller().createVolume(restore).getVolume().getVolumeId(),
                "a retried create is the same volume");
    }

    /** Where a volume's files are: in the engine's tree, or for hostpath the host directory named after it. */
    private static Path tree(CsiHarness host, String volumeId, String name, String engine) {
        return engine.equals("hostpath") ? host.hostRoot().resolve(name) : host.volumeDir(volumeId, engine);
    }

    /**
     * A hostpath volume takes up a host directory that may already exist (a Retain volume's, made
     * again); a restore never merges into one that holds data, and leaves it as it was.
     */
    @Test
    void aRestoreIntoAHostDirectoryThatHoldsDataIsRefusedAndTouchesNothing() throws Exception {
        String volume = hostA.controller().createVolume(Csi.createVolume("pvc-src")
                .putParameters("engine", "hostpath").build()).getVolume().getVolumeId();
        fill(hostA.hostRoot().resolve("pvc-src"), 3);
        String id = awaitStored(hostA::controller, remote("snap-h", volume, target())).getSnapshotId();
        Path taken = Files.createDirectories(hostB.hostRoot().resolve("pvc-taken"));
        Files.writeString(taken.resolve("kept.txt"), "someone's data");
        assertStatus(Status.Code.ALREADY_EXISTS, "already holds data", () -> hostB.controller().createVolume(
                Csi.createVolume("pvc-taken").putParameters("engine", "hostpath")
                        .putParameters("fromBackup", target() + "#" + id).build()));
        assertEquals(List.of("kept.txt"), CsiCalls.names(taken));
        assertEquals("someone's data", Files.readString(taken.resolve("kept.txt")));
        assertEquals(List.of(), hostB.listVolumeIds(), "no volume left behind");
    }

    /** The stored chunks: objects of their own under chunks/, and packs of small ones under packs/. */
    private List<Path> storedChunks() throws IOException {
        List<Path> stored = new java.util.ArrayList<>(CsiCalls.files(shared.resolve("target/chunks")));
        stored.addAll(CsiCalls.files(shared.resolve("target/packs")));
        return stored;
    }

    /** A delete while the upload runs stops it, and nothing of it stays in the target afterwards. */
    @Test
    void deletingASnapshotWhileItUploadsLeavesNothingInTheTarget() throws Exception {
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        byte[] big = new byte[48 << 20];
        new Random(7).nextBytes(big);
        Files.write(hostA.volumeDir(volume).resolve("big.bin"), big);
        for (int round = 0; round < 3; round++) {
            String id = hostA.controller().createSnapshot(remote("snap-" + round, volume, target())).getSnapshot()
                    .getSnapshotId();
            hostA.deleteSnapshot(id); // at once: the upload has just begun, or not yet
            assertEquals(List.of(), storedChunks(), "round " + round);
            assertEquals(List.of(), CsiCalls.files(shared.resolve("target/backups")), "round " + round);
            assertEquals(List.of(), CsiCalls.files(shared.resolve("target/locks")), "round " + round);
        }
    }

    @Test
    void deletingTheSnapshotRemovesItsBackupAndTheChunksOnlyItUsed() throws Exception {
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        fill(hostA.volumeDir(volume), 2);
        String id = awaitStored(hostA::controller, remote("snap-1", volume, target())).getSnapshotId();
        assertFalse(storedChunks().isEmpty());
        hostA.deleteSnapshot(id);
        assertFalse(Files.exists(shared.resolve("target/backups/" + id)), "the manifest is gone");
        assertEquals(List.of(), storedChunks(), "no chunk or pack is left");
        assertStatus(Status.Code.NOT_FOUND, "fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-gone", target() + "#" + id)));
        assertEquals(List.of(), hostB.listVolumeIds(), "a failed restore leaves no volume");
    }

    /**
     * A parent is only a shortcut: when its backup was removed from the target by hand
     * ({@code stratactl backup rm}), the next backup reads everything instead of failing on it.
     */
    @Test
    void aParentBackupRemovedByHandIsSkippedAndTheNextBackupReadsEverything() throws Exception {
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        fill(hostA.volumeDir(volume), 6);
        String first = awaitStored(hostA::controller, remote("snap-1", volume, target())).getSnapshotId();
        BackupRepository.open(target(), BackupSecrets.NONE).remove(first);
        Files.writeString(hostA.volumeDir(volume).resolve("later.txt"), "written after snap-1");
        String second = awaitStored(hostA::controller, remote("snap-2", volume, target())).getSnapshotId();
        String restored = hostB.controller().createVolume(fromBackup("pvc-moved", target() + "#" + second))
                .getVolume().getVolumeId();
        assertSameTree(hostA.snapshotDir(second), hostB.volumeDir(restored));
    }

    @Test
    void anEncryptedTargetNeedsTheRightKeyAndAWrongOneChangesNothing() throws Exception {
        Path key = Files.writeString(shared.resolve("key"), "correct horse battery staple");
        Path wrong = Files.writeString(shared.resolve("wrong"), "not the key");
        hostA.backupKeyFile(key);
        hostA.restart();
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        fill(hostA.volumeDir(volume), 3);
        Files.writeString(hostA.volumeDir(volume).resolve("secret.txt"), "PLAINTEXT-MARKER");
        String id = awaitStored(hostA::controller, remote("snap-1", volume, target())).getSnapshotId();
        for (Path chunk : storedChunks()) {
            assertFalse(new String(Files.readAllBytes(chunk), java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains("PLAINTEXT-MARKER"), "a chunk or pack holds plaintext: " + chunk);
        }
        String url = target() + "#" + id;
        assertStatus(Status.Code.FAILED_PRECONDITION, "fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-nokey", url)));
        hostB.backupKeyFile(wrong);
        hostB.restart();
        assertStatus(Status.Code.FAILED_PRECONDITION, "fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-wrongkey", url)));
        assertEquals(List.of(), hostB.listVolumeIds());
        assertEquals(List.of(), CsiHarness.names(hostB.volumesDir()), "nothing was left on disk");
        hostB.backupKeyFile(key);
        hostB.restart();
        String restored = hostB.controller().createVolume(fromBackup("pvc-key", url)).getVolume().getVolumeId();
        assertSameTree(hostA.snapshotDir(id), hostB.volumeDir(restored));
    }

    @Test
    void aCorruptedOrMissingChunkIsDataLossNeverAWrongVolume() throws Exception {
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        fill(hostA.volumeDir(volume), 4);
        String id = awaitStored(hostA::controller, remote("snap-1", volume, target())).getSnapshotId();
        List<Path> chunks = storedChunks();
        Path victim = chunks.get(0);
        byte[] bytes = Files.readAllBytes(victim);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(victim, bytes);
        String url = target() + "#" + id;
        assertStatus(Status.Code.DATA_LOSS, "fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-corrupt", url)));
        Files.delete(victim);
        assertStatus(Status.Code.DATA_LOSS, "fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-missing", url)));
        assertEquals(List.of(), hostB.listVolumeIds());
        assertEquals(List.of(), CsiHarness.names(hostB.volumesDir()), "nothing was left on disk");
    }

    @Test
    void anUploadARestartInterruptedResumesOnTheNextCreateSnapshot() throws Exception {
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        fill(hostA.volumeDir(volume), 5);
        String id = hostA.controller().createSnapshot(remote("snap-1", volume, target())).getSnapshot()
                .getSnapshotId();
        hostA.restart(); // stops the upload wherever it is
        awaitStored(hostA::controller, remote("snap-1", volume, target()));
        String restored = hostB.controller().createVolume(fromBackup("pvc-moved", target() + "#" + id))
                .getVolume().getVolumeId();
        assertSameTree(hostA.snapshotDir(id), hostB.volumeDir(restored));
    }

    /**
     * An upload into a directory that holds other data is refused (it is no backup target), and the
     * snapshot's delete then goes through: nothing of it is in that directory, which it leaves as it was.
     */
    @Test
    void aSnapshotWhoseTargetIsNoBackupTargetIsDeletedAndLeavesTheDirectoryAsItWas() throws Exception {
        Path blocked = Files.createDirectories(shared.resolve("blocked"));
        Files.writeString(blocked.resolve("in-the-way"), "not a backup target");
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        CreateSnapshotRequest req = remote("snap-1", volume, "file://" + blocked);
        String id = hostA.controller().createSnapshot(req).getSnapshot().getSnapshotId();
        StatusRuntimeException failed = SnapshotUploads.awaitUploadFailure(hostA::controller, req);
        assertEquals(Status.Code.INVALID_ARGUMENT, failed.getStatus().getCode(), failed.getStatus().toString());

        hostA.deleteSnapshot(id);
        assertEquals(List.of(), hostA.controller().listSnapshots(ListSnapshotsRequest.getDefaultInstance())
                .getEntriesList());
        assertEquals(List.of(blocked.resolve("in-the-way")), CsiCalls.files(blocked), "the directory is as it was");
    }

    @Test
    void badRequestsNameTheirParameterAndChangeNothing() throws Exception {
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        assertStatus(Status.Code.INVALID_ARGUMENT, "parameters.backupTarget", () -> hostA.controller()
                .createSnapshot(remote("snap-http", volume, "http://example.com/x")));
        assertStatus(Status.Code.INVALID_ARGUMENT, "parameters.backupTarget", () -> hostA.controller()
                .createSnapshot(remote("snap-rel", volume, "file:relative/dir")));
        assertEquals(List.of(), hostA.listSnapshotIds(), "no snapshot was cut");
        assertStatus(Status.Code.INVALID_ARGUMENT, "parameters.fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-nohash", target())));
        assertStatus(Status.Code.INVALID_ARGUMENT, "parameters.fromBackup", () -> hostB.controller().createVolume(
                Csi.createVolume("pvc-both").putParameters("fromBackup", target() + "#snap-x")
                        .setVolumeContentSource(Csi.fromSnapshot(Csi.UNKNOWN_SNAPSHOT)).build()));
        assertStatus(Status.Code.NOT_FOUND, "fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-none", target() + "#snap-00000000000000000000000000000000")));
        assertEquals(List.of(), hostB.listVolumeIds());
    }

    @Test
    void aTargetThatNamesAFileOrNoBackupIsAnsweredSoAndGetsNothingWritten() throws Exception {
        String volume = hostA.createVolume("pvc-src").getVolumeId();
        Path file = Files.writeString(shared.resolve("hostname"), "node-1\n");
        for (Path bad : List.of(file, file.resolve("sub"))) {
            assertStatus(Status.Code.INVALID_ARGUMENT, "parameters.backupTarget", () -> hostA.controller()
                    .createSnapshot(remote("snap-file", volume, "file://" + bad)));
            assertStatus(Status.Code.INVALID_ARGUMENT, "parameters.fromBackup", () -> hostB.controller()
                    .createVolume(fromBackup("pvc-file", "file://" + bad + "#snap-1")));
        }
        assertEquals(List.of(), hostA.listSnapshotIds(), "no snapshot was cut");
        assertEquals("node-1\n", Files.readString(file));
        // A restore from a directory that is empty, or not there, finds no backup, and makes no repository
        // there: a later backup with another key must not meet a config this restore wrote.
        Path empty = Files.createDirectory(shared.resolve("empty"));
        Path absent = shared.resolve("absent/deeper");
        for (Path dir : List.of(empty, absent)) {
            assertStatus(Status.Code.NOT_FOUND, "fromBackup", () -> hostB.controller().createVolume(
                    fromBackup("pvc-nothing", "file://" + dir + "#snap-1")));
        }
        assertStatus(Status.Code.INVALID_ARGUMENT, "fromBackup", () -> hostB.controller().createVolume(
                fromBackup("pvc-badname", "file://" + empty + "#Snap_1")));
        try (Stream<Path> left = Files.list(empty)) {
            assertEquals(List.of(), left.toList());
        }
        assertFalse(Files.exists(shared.resolve("absent")));
        assertEquals(List.of(), hostB.listVolumeIds());
    }

    /** Same names, types, contents, link targets and modes, everywhere below the two roots. */
    static void assertSameTree(Path expected, Path actual) throws IOException {
        assertEquals(listing(expected), listing(actual));
        for (String entry : listing(expected)) {
            String rel = entry.replaceAll("[@/]$", "");
            Path e = expected.resolve(rel);
            Path a = actual.resolve(rel);
            if (Files.isSymbolicLink(e)) {
                assertEquals(Files.readSymbolicLink(e), Files.readSymbolicLink(a), rel);
            } else if (Files.isRegularFile(e, LinkOption.NOFOLLOW_LINKS)) {
                assertEquals(-1L, Files.mismatch(e, a), "content differs: " + rel);
            }
            if (!Files.isSymbolicLink(e)) {
                assertEquals(Files.getPosixFilePermissions(e, LinkOption.NOFOLLOW_LINKS),
                        Files.getPosixFilePermissions(a, LinkOption.NOFOLLOW_LINKS), "mode of " + rel);
            }
        }
    }

    private static List<String> listing(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(p -> out.add(root.relativize(p) + (Files.isSymbolicLink(p) ? "@"
                    : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : "")));
        }
        out.sort(null);
        return out;
    }
}
