package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two test runs on one host never share the cluster. A lock's rival has to be another process
 * (POSIX locks belong to processes), so the rival here is python3's fcntl.lockf, the same kind of
 * lock as the JVM's.
 */
class ClusterLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondProcessCannotTakeTheLockUntilTheFirstLetsGo() throws Exception {
        assumeTrue(LocalCluster.onPath("python3"), "skipped: python3 is missing (the rival process)");
        Path file = dir.resolve("cluster.lock");
        // Not read from this JVM while held: closing any descriptor of the file drops the process's POSIX locks.
        try (ClusterLock held = ClusterLock.take(file, Duration.ZERO)) {
            assertEquals("held by " + ProcessHandle.current().pid(), rival(file), "a rival process while this run holds the lock");
        }
        assertEquals("free", rival(file), "a rival process once this run let go");
    }

    @Test
    void aRunGivesUpAfterItsPatienceOrTakesTheLockOnceItsHolderExits() throws Exception {
        assumeTrue(LocalCluster.onPath("python3"), "skipped: python3 is missing (the rival process)");
        Path file = dir.resolve("cluster.lock");
        Process holder = hold(file, 3);
        var failure = assertThrows(IllegalStateException.class, () -> ClusterLock.take(file, Duration.ZERO));
        assertTrue(failure.getMessage().contains("pid " + holder.pid()), failure.getMessage());
        long start = System.nanoTime();
        try (ClusterLock taken = ClusterLock.take(file, Duration.ofMinutes(1))) {
            assertTrue(holder.waitFor(0, TimeUnit.SECONDS), "the lock was taken only after its holder exited");
            assertTrue(System.nanoTime() - start >= TimeUnit.SECONDS.toNanos(1), "it waited for the holder");
        }
    }

    /** python3 tries the lock once without waiting: "free" if it got it, else "held by" the pid in the file. */
    private static String rival(Path file) throws IOException, InterruptedException {
        Process p = python(file, "import fcntl, sys\n"
                + "f = open(sys.argv[1], 'r+')\n"
                + "try:\n    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('free')\n"
                + "except OSError:\n    print('held by', f.read().strip())\n");
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "python3 ended");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    /** python3 takes the lock, writes its pid as ClusterLock does, says so, and holds it for SECONDS. */
    private static Process hold(Path file, int seconds) throws IOException {
        Process p = python(file, "import fcntl, os, sys, time\n"
                + "f = open(sys.argv[1], 'a+')\n"
                + "fcntl.lockf(f, fcntl.LOCK_EX)\n"
                + "f.truncate(0); f.write(str(os.getpid()) + '\\n'); f.flush()\n"
                + "print('held', flush=True)\n"
                + "time.sleep(int(sys.argv[2]))\n", String.valueOf(seconds));
        String said = new String(p.getInputStream().readNBytes(5), StandardCharsets.US_ASCII);
        assertEquals("held\n", said, "python3 took the lock");
        return p;
    }

    private static Process python(Path file, String program, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", "-c", program, file.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }
}
