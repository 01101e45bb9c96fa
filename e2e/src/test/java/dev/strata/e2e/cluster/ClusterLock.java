package dev.strata.e2e.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * One test run at a time owns {@code bin/cluster}'s cluster on a host. {@code bin/cluster up} on a
 * running cluster keeps it (it only restarts what died), so without this a second run on the same
 * host would share the first one's cluster, objects and installs, and each would fail on the
 * other's PVCs. The lock is a POSIX record lock on a file beside the cluster's directory: the
 * kernel drops it when its holder exits, however it exits, so a killed run never wedges the next.
 * Nothing else in the holding JVM may open the file: closing any descriptor of it drops the
 * process's POSIX locks.
 */
final class ClusterLock implements AutoCloseable {
    private static final Duration POLL = Duration.ofSeconds(5);

    private final FileChannel file;
    private final FileLock lock;

    private ClusterLock(FileChannel file, FileLock lock) {
        this.file = file;
        this.lock = lock;
    }

    /** Takes the lock, waiting up to {@code patience} for the run that holds it; writes this PID into the file. */
    static ClusterLock take(Path path, Duration patience) throws IOException, InterruptedException {
        FileChannel file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            long deadline = System.nanoTime() + patience.toNanos();
            FileLock lock;
            boolean told = false;
            while ((lock = file.tryLock()) == null) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("another test run (pid " + holder(file) + ") has held the "
                            + "cluster's lock " + path + " for more than " + patience.toMinutes() + " min");
                }
                if (!told) {
                    System.err.println("waiting for the test run (pid " + holder(file) + ") that holds " + path);
                    told = true;
                }
                Thread.sleep(POLL.toMillis());
            }
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            file.truncate(0).write(ByteBuffer.wrap(pid), 0);
            return new ClusterLock(file, lock);
        } catch (IOException | InterruptedException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static String holder(FileChannel file) throws IOException {
        ByteBuffer pid = ByteBuffer.allocate(32);
        file.read(pid, 0);
        return new String(pid.array(), 0, pid.position(), StandardCharsets.US_ASCII).strip();
    }

    @Override
    public void close() throws IOException {
        lock.release();
        file.close();
    }
}
