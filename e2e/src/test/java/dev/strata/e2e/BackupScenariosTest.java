package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.e2e.HostRoot.Run;
import dev.strata.testkit.CsiCalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Convoy's flow with the real binaries: {@code bin/strata standalone} on two "hosts" (two drivers,
 * two data directories, nothing shared but the backup target and its key) and {@code bin/stratactl}.
 * A volume's snapshot goes to an encrypted target, survives a kill -9 of its driver right after the
 * cut (while it uploads, or just after: BackupCrashRecoveryTest halts it at exact points of the upload), and
 * comes back on the other host byte for byte; {@code stratactl backup} lists, verifies and removes it.
 */
class BackupScenariosTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    HostRoot host;
    DriverProcess hostA;
    DriverProcess hostB;
    Path key;
    String target;

    @BeforeEach
    void start() throws IOException {
        HostRoot.assumeRunnable();
        host = new HostRoot("backup-test-");
        key = Files.writeString(host.dir.resolve("backup.key"), "a secret only the two hosts know");
        target = "file://" + host.dir.resolve("target");
        hostA = new DriverProcess("--backup-key-file", key.toString()).start();
        hostB = new DriverProcess("--backup-key-file", key.toString()).start();
    }

    /** Stops both drivers even when the first fails to close, so that a failed test leaks no process. */
    @AfterEach
    void stop() throws IOException {
        IOException failed = null;
        for (AutoCloseable c : new AutoCloseable[] {hostA, hostB}) {
            if (c != null) {
                try {
                    c.close(); // fails when anything is still mounted under the driver's directory
                } catch (Exception e) {
                    failed = failed == null ? new IOException(e) : failed;
                }
            }
        }
        if (host != null) {
            host.close();
        }
        if (failed != null) {
            throw failed;
        }
    }

    private Run stratactl(DriverProcess driver, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(HostRoot.REPO.resolve("bin/stratactl").toString(),
                "--endpoint", "unix://" + driver.socket()));
        command.addAll(List.of(args));
        Run run = host.run(Map.of("STRATACTL_STATE_DIR", host.dir.resolve("client").toString()), TIMEOUT, command);
        return run;
    }

    private String ok(DriverProcess driver, String... args) throws IOException {
        Run run = stratactl(driver, args);
        assertEquals(0, run.exit(), () -> String.join(" ", args) + ": " + run.output());
        return run.output();
    }

    @Test
    void aSnapshotGoesOffTheNodeSurvivesAKilledDriverAndComesBackOnAnotherHost() throws Exception {
        // Before any backup the target holds none, and reading it makes no directory and no config there
        assertEquals("", ok(hostA, "backup", "ls", "-q", target));
        Run none = stratactl(hostA, "backup", "inspect", target + "#snap-1");
        assertEquals(1, none.exit(), none::output);
        assertTrue(none.output().contains("not found"), none.output());
        Run noVolume = stratactl(hostB, "volume", "create", "nothing", "--from-backup", target + "#snap-1");
        assertEquals(1, noVolume.exit(), noVolume::output);
        assertTrue(noVolume.output().contains("NOT_FOUND"), noVolume.output());
        assertFalse(Files.exists(host.dir.resolve("target")));

        ok(hostA, "volume", "create", "data", "--size", "1Gi");
        Path mountA = host.dir.resolve("a");
        ok(hostA, "mount", "data", mountA.toString());
        Random random = new Random(16);
        byte[] big = new byte[96 << 20];
        random.nextBytes(big);
        Files.createDirectories(mountA.resolve("db/wal"));
        Files.write(mountA.resolve("db/table.dat"), big);
        Files.writeString(mountA.resolve("db/wal/000001.log"), "committed\n");
        Files.createSymbolicLink(mountA.resolve("current"), Path.of("db/wal/000001.log"));
        ok(hostA, "umount", "data", mountA.toString());

        // Cut, then kill the driver while it uploads (96 MiB of incompressible data to chunk, hash, encrypt).
        String cut = ok(hostA, "snapshot", "create", "data", "--name", "nightly", "--to", target, "--no-wait");
        String snapshotId = cut.lines().findFirst().orElseThrow();
        hostA.kill9();
        hostA.restart();
        String stored = ok(hostA, "snapshot", "create", "data", "--name", "nightly", "--to", target);
        String url = target + "#" + snapshotId;
        assertEquals(List.of(snapshotId, url), stored.lines().toList());

        String ls = ok(hostA, "backup", "ls", target, "--key-file", key.toString());
        assertTrue(ls.contains(snapshotId), ls);
        assertTrue(ok(hostA, "backup", "verify", url, "--key-file", key.toString()).contains(": ok"));
        Run noKey = stratactl(hostA, "backup", "ls", target);
        assertEquals(1, noKey.exit(), noKey::output);
        assertTrue(noKey.output().contains("key"), noKey.output());

        // The other host, from the target alone.
        ok(hostB, "volume", "create", "data", "--from-backup", url);
        Path mountB = host.dir.resolve("b");
        ok(hostB, "mount", "data", mountB.toString());
        assertEquals(-1L, Files.mismatch(mountB.resolve("db/table.dat"), writeTemp(big)));
        assertEquals("committed\n", Files.readString(mountB.resolve("current")));
        assertEquals(Path.of("db/wal/000001.log"), Files.readSymbolicLink(mountB.resolve("current")));
        ok(hostB, "umount", "data", mountB.toString());
        ok(hostB, "volume", "rm", "data");

        // Deleting the snapshot on host A deletes its backup and every chunk only it used.
        ok(hostA, "snapshot", "rm", "nightly");
        assertEquals("", ok(hostA, "backup", "ls", "-q", target, "--key-file", key.toString()));
        assertEquals(List.of(), CsiCalls.files(host.dir.resolve("target/chunks")));
        ok(hostA, "volume", "rm", "data");
    }

    /**
     * A failed upload ends stratactl's wait: with a target that cannot take packs (a file where their
     * directory goes), {@code snapshot create --to} exits 1 with the driver's answer and what to do,
     * and keeps the snapshot; once the target is mended the same command stores it.
     */
    @Test
    void aFailedUploadEndsStratactlsWaitAndTheSameCommandThenStoresIt() throws Exception {
        ok(hostA, "volume", "create", "data", "--size", "256Mi");
        Path blocked = Files.createDirectories(host.dir.resolve("blocked"));
        Files.writeString(blocked.resolve("packs"), "in the way");
        String to = "file://" + blocked;

        Run failed = stratactl(hostA, "snapshot", "create", "data", "--name", "nightly", "--to", to);
        assertEquals(1, failed.exit(), failed::output);
        assertTrue(failed.output().contains("is cut, but its upload to " + to + " failed, and is tried again"),
                failed.output());
        assertTrue(failed.output().contains("the snapshot nightly is kept: the same command again resumes its "
                + "upload"), failed.output());
        assertTrue(ok(hostA, "snapshot", "ls").contains("nightly"), "the snapshot is kept");

        Files.delete(blocked.resolve("packs"));
        List<String> stored = ok(hostA, "snapshot", "create", "data", "--name", "nightly", "--to", to).lines().toList();
        assertEquals(2, stored.size(), () -> String.join("\n", stored));
        assertEquals(to + "#" + stored.get(0), stored.get(1));
        assertTrue(ok(hostA, "backup", "verify", stored.get(1), "--key-file", key.toString()).contains(": ok"));
        ok(hostA, "snapshot", "rm", "nightly");
        ok(hostA, "volume", "rm", "data");
    }

    @Test
    void aVolumeMovesToAnotherHostAndLeavesNothingBehindOnTheFirst() throws Exception {
        ok(hostA, "volume", "create", "data", "--size", "256Mi");
        Path mountA = host.dir.resolve("a");
        ok(hostA, "mount", "data", mountA.toString());
        byte[] big = new byte[8 << 20];
        new Random(17).nextBytes(big);
        Files.write(mountA.resolve("blob"), big);
        Files.writeString(mountA.resolve("notes.txt"), "moved with its volume\n");
        String toB = "unix://" + hostB.socket();
        Run mounted = stratactl(hostA, "volume", "move", "data", "--via", target, "--to", toB);
        assertEquals(1, mounted.exit(), mounted::output);
        assertTrue(mounted.output().contains("move data: volume is in use, mounted at " + mountA), mounted.output());
        ok(hostA, "umount", "data", mountA.toString());

        // A copy first: the source stays, no backup does.
        String copied = lastLine(ok(hostA, "volume", "move", "data", "--via", target, "--to", toB, "--keep-source"));
        assertEquals("", ok(hostA, "backup", "ls", "-q", target, "--key-file", key.toString()));
        assertEquals("", ok(hostA, "snapshot", "ls", "-q"));
        // A move onto that copy is refused: the source may have changed since, and it would be lost.
        Run onto = stratactl(hostA, "volume", "move", "data", "--via", target, "--to", toB);
        assertEquals(1, onto.exit(), onto::output);
        assertTrue(onto.output().contains("already has a volume named data that this move did not make"),
                onto.output());
        ok(hostB, "volume", "rm", "data");

        // A move cut off after its restore (done here by hand), then the source written again: the
        // next run starts over, so the write is not lost with the source.
        ok(hostA, "snapshot", "create", "data", "--name", "move-data", "--to", target);
        ok(hostB, "volume", "create", "data", "--from-backup",
                target + "#" + lastLine(ok(hostA, "snapshot", "ls", "-q")));
        ok(hostA, "mount", "data", mountA.toString());
        Files.writeString(mountA.resolve("later.txt"), "written after the first attempt\n");
        ok(hostA, "umount", "data", mountA.toString());
        String moved = ok(hostA, "volume", "move", "data", "--via", target, "--to", toB);
        assertTrue(moved.contains("data: an earlier attempt stopped half way; starting over"), moved);
        assertEquals(copied, lastLine(moved), "IDs come from names");
        assertTrue(moved.contains("data: removed from unix://" + hostA.socket()), moved);
        assertNothingOf(hostA);
        assertSameData(hostB, big);

        // Back to A, cut off after the source was removed (done here by hand, step by step): the same
        // command finishes it, since only the snapshot and its backup were left.
        ok(hostB, "snapshot", "create", "data", "--name", "move-data", "--to", target);
        String url = target + "#" + lastLine(ok(hostB, "snapshot", "ls", "-q"));
        ok(hostA, "volume", "create", "data", "--from-backup", url);
        ok(hostB, "volume", "rm", "data");
        String toA = "unix://" + hostA.socket();
        String finished = ok(hostB, "volume", "move", "data", "--via", target, "--to", toA);
        assertTrue(finished.contains("data: already at " + toA), finished);
        assertEquals(copied, lastLine(finished), "the volume's ID on A, as a whole move prints it");
        assertNothingOf(hostB);
        assertSameData(hostA, big);
        ok(hostA, "volume", "rm", "data");
    }

    /**
     * An overlay volume's remote snapshot is its layers: inspect says so, ls shows the backup but not
     * its layers, the other host rebuilds the chain (a whiteout included), and removing the snapshot
     * takes its layers and their chunks along.
     */
    @Test
    void anOverlayVolumeGoesToAnotherHostByItsLayers() throws Exception {
        String keyFile = key.toString();
        ok(hostA, "volume", "create", "layered", "--size", "256Mi", "--param", "engine=overlay");
        Path mountA = host.dir.resolve("a");
        ok(hostA, "mount", "layered", mountA.toString());
        Files.writeString(mountA.resolve("kept.txt"), "in the lower layer\n");
        Files.writeString(mountA.resolve("doomed.txt"), "deleted after the first snapshot\n");
        ok(hostA, "snapshot", "create", "layered", "--name", "lower");
        Files.delete(mountA.resolve("doomed.txt"));
        Files.writeString(mountA.resolve("top.txt"), "in the top layer\n");
        String cut = ok(hostA, "snapshot", "create", "layered", "--name", "top", "--to", target);
        String url = lastLine(cut);
        ok(hostA, "umount", "layered", mountA.toString());
        String inspect = ok(hostA, "backup", "inspect", url, "--key-file", keyFile);
        assertTrue(inspect.contains("layers:     2 "), inspect);
        assertEquals(List.of(url), ok(hostA, "backup", "ls", "-q", target, "--key-file", keyFile).lines().toList(),
                "a layer is part of a backup, not listed as one");
        assertTrue(ok(hostA, "backup", "verify", url, "--key-file", keyFile).contains(": ok"));

        ok(hostB, "volume", "create", "layered", "--from-backup", url, "--param", "engine=overlay");
        Path mountB = host.dir.resolve("b");
        ok(hostB, "mount", "layered", mountB.toString());
        assertEquals("in the lower layer\n", Files.readString(mountB.resolve("kept.txt")));
        assertEquals("in the top layer\n", Files.readString(mountB.resolve("top.txt")));
        assertFalse(Files.exists(mountB.resolve("doomed.txt")), "the whiteout came back with its layer");
        ok(hostB, "umount", "layered", mountB.toString());
        ok(hostB, "volume", "rm", "layered");

        ok(hostA, "snapshot", "rm", "top");
        assertEquals(List.of(), CsiCalls.files(host.dir.resolve("target/backups")), "its layers went with it");
        assertEquals(List.of(), CsiCalls.files(host.dir.resolve("target/chunks")));
        ok(hostA, "snapshot", "rm", "lower");
        ok(hostA, "volume", "rm", "layered");
    }

    private void assertNothingOf(DriverProcess driver) throws IOException {
        assertEquals("", ok(driver, "volume", "ls", "-q"));
        assertEquals("", ok(driver, "snapshot", "ls", "-q"));
        assertEquals("", ok(driver, "backup", "ls", "-q", target, "--key-file", key.toString()));
        assertEquals(List.of(), CsiCalls.files(host.dir.resolve("target/chunks")));
    }

    private void assertSameData(DriverProcess driver, byte[] blob) throws IOException {
        Path mount = host.dir.resolve("check");
        ok(driver, "mount", "data", mount.toString());
        assertEquals(-1L, Files.mismatch(mount.resolve("blob"), writeTemp(blob)));
        assertEquals("moved with its volume\n", Files.readString(mount.resolve("notes.txt")));
        assertEquals("written after the first attempt\n", Files.readString(mount.resolve("later.txt")));
        ok(driver, "umount", "data", mount.toString());
    }

    private static String lastLine(String output) {
        List<String> lines = output.lines().toList();
        return lines.get(lines.size() - 1);
    }

    private Path writeTemp(byte[] data) throws IOException {
        return Files.write(host.dir.resolve("expected.bin"), data);
    }
}
