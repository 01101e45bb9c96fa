package dev.strata.backup;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Future;

/**
 * Reads a restore's chunks ahead of the writer, on a few threads, in exactly the order the writer
 * asks for them: fetching, decrypting, decompressing and checking chunk after chunk on the writer's
 * own thread left the disk idle while the CPU worked and the CPU idle while the disk did (a restore
 * of 100,000 small files from a cold cache). At most {@code window} chunks are held at once, so
 * memory stays bounded by the window times the largest chunk.
 *
 * <p>The arrays chunks are read into are used again: a chunk given to the writer is valid until it
 * asks for the next one, and then its array reads another chunk. A restore of a GiB allocated a GiB
 * of arrays before, each living just long enough to be promoted, and the small heap spent a third
 * of the restore in full collections.
 */
final class ChunkPrefetch implements AutoCloseable {
    private static final byte[] NO_BUFFER = new byte[0];
    /** One chunk the writer will ask for, and the file it belongs to (for the error message). */
    record Wanted(Manifest.ChunkRef ref, String file) {}

    private final ChunkStore store;
    private final Iterator<Wanted> upcoming;
    private final int window;
    private final ArrayDeque<Future<ByteBuffer>> inFlight = new ArrayDeque<>();
    private final WorkerPool pool;
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>(); // guarded by itself
    private byte[] lent; // the array under the chunk the writer holds

    ChunkPrefetch(ChunkStore store, List<Wanted> wanted, int threads, int window) {
        this.store = store;
        this.upcoming = wanted.iterator();
        this.window = window;
        this.pool = new WorkerPool("backup-restore", threads);
    }

    /** The chunks of every file (or image) of {@code entries}, holes left out, in the order a restore writes them. */
    static List<Wanted> inOrder(List<Manifest.Entry> entries) {
        return entries.stream().filter(e -> !e.type().equals(Manifest.Entry.DIR)
                        && !e.type().equals(Manifest.Entry.SYMLINK))
                .flatMap(e -> e.chunks().stream().filter(ref -> !ref.isHole()).map(ref -> new Wanted(ref, e.path())))
                .toList();
    }

    /** The next chunk's checked plaintext; the error of a chunk that failed is thrown here, in order. */
    ByteBuffer next() throws IOException {
        if (lent != null) {
            giveBack(lent);
            lent = null;
        }
        while (inFlight.size() < window && upcoming.hasNext()) {
            Wanted w = upcoming.next();
            inFlight.add(pool.submit(() -> store.read(w.ref(), w.file(), take())));
        }
        Future<ByteBuffer> head = inFlight.poll();
        if (head == null) {
            throw new IllegalStateException("the restore asked for more chunks than its manifest lists");
        }
        ByteBuffer chunk = WorkerPool.await(head);
        lent = chunk.array();
        return chunk;
    }

    private byte[] take() {
        synchronized (spare) {
            byte[] array = spare.poll();
            return array != null ? array : NO_BUFFER;
        }
    }

    private void giveBack(byte[] array) {
        synchronized (spare) {
            if (spare.size() <= window) {
                spare.push(array);
            }
        }
    }

    @Override
    public void close() throws InterruptedIOException {
        pool.close();
    }
}
