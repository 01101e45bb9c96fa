package dev.strata.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.Future;

/**
 * Reads small files whole on a few threads, a few dozen ahead, and hands each back in the order it
 * was asked for. A backup's own thread read every file in turn: from a cold page cache each small
 * file is a wait on the disk, and restic, reading on two threads, took less than half the time.
 *
 * @param <T> what the caller hands back with each file's content, to know which it is
 */
final class ReadAhead<T> implements AutoCloseable {
    /** The biggest file read ahead: a few dozen of them in memory is little for the driver's heap. */
    static final int MAX_FILE = 256 << 10;
    private static final int FILES_AHEAD = 32;
    private static final int THREADS = 2;

    /**
     * Receives a file's content (an array of its own, the caller's to keep), or null when it grew
     * past {@link #MAX_FILE} since the walk saw it.
     */
    interface Receiver<T> {
        void receive(T tag, ByteBuffer content) throws IOException;
    }

    private record Pending<T>(T tag, Future<ByteBuffer> content) {}

    private final Receiver<T> receiver;
    private final WorkerPool pool = new WorkerPool("backup-read", THREADS);
    private final ArrayDeque<Pending<T>> pending = new ArrayDeque<>();

    ReadAhead(Receiver<T> receiver) {
        this.receiver = receiver;
    }

    /**
     * Reads {@code file} ahead, expecting {@code size} bytes (what the walk saw); its content reaches
     * the receiver after every file asked for before it.
     */
    void add(T tag, Path file, long size) throws IOException {
        int expected = (int) Math.min(Math.max(size, 0), MAX_FILE);
        pending.add(new Pending<>(tag, pool.submit(() -> readSmall(file, expected))));
        while (pending.size() > FILES_AHEAD) {
            handBackOldest();
        }
    }

    /** Hands back every file asked for. */
    void finish() throws IOException {
        while (!pending.isEmpty()) {
            handBackOldest();
        }
    }

    private void handBackOldest() throws IOException {
        Pending<T> oldest = pending.poll();
        receiver.receive(oldest.tag(), WorkerPool.await(oldest.content()));
    }

    /** Into one array of the expected size and a byte more, to see the end; a file that changed since is still read whole. */
    private static ByteBuffer readSmall(Path file, int expected) throws IOException {
        // NOFOLLOW: a file swapped for a symlink since the walk saw it must not lead outside the tree
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] content = new byte[expected + 1];
            int read = in.readNBytes(content, 0, content.length);
            if (read <= expected) {
                return ByteBuffer.wrap(content, 0, read);
            }
            byte[] more = in.readNBytes(MAX_FILE + 1 - read); // a byte past MAX_FILE at most
            if (read + more.length > MAX_FILE) {
                return null;
            }
            byte[] whole = java.util.Arrays.copyOf(content, read + more.length);
            System.arraycopy(more, 0, whole, read, more.length);
            return ByteBuffer.wrap(whole);
        }
    }

    @Override
    public void close() throws InterruptedIOException {
        pool.close();
    }
}
