package dev.strata.backup;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayDeque;
import java.util.ArrayList;
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
 *
 * <p>Chunks that lie one after another in a pack are read with one request ({@link #nextRun}): on
 * S3 a restore of small files was one ranged GET per file.
 */
final class ChunkPrefetch implements AutoCloseable {
    private static final byte[] NO_BUFFER = new byte[0];
    /**
     * The most one read of adjacent packed chunks takes: a restore of small files is a run of them,
     * and on S3 so is a big file's ({@link BackupTarget#packsEveryChunk}). As much as the default
     * largest chunk, so that the arrays a restore holds are no bigger than before runs.
     */
    static final int RUN_BYTES = ChunkUploader.PACKED_MAX;

    /** One chunk the writer will ask for, and the file it belongs to (for the error message). */
    record Wanted(Manifest.ChunkRef ref, String file) {}

    /** Chunks read at once, and the array they were read into, given back once the writer is past them. */
    private record Fetched(List<ByteBuffer> chunks, byte[] array) {}

    private final ChunkStore store;
    private final Iterator<Wanted> upcoming;
    private Wanted pending; // read off upcoming, not yet in a run
    private final int window;
    private final ArrayDeque<Future<Fetched>> inFlight = new ArrayDeque<>();
    private final WorkerPool pool;
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>(); // guarded by itself
    private Fetched current; // the chunks the writer is going through
    private int position;

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

    /**
     * The next chunk's checked plaintext, valid until the next call; the error of a chunk that failed
     * is thrown here, in order.
     */
    ByteBuffer next() throws IOException {
        if (current == null || position == current.chunks().size()) {
            advance();
        }
        return current.chunks().get(position++);
    }

    /** Moves to the next run, its slot in the window given to the run after the last one asked for. */
    private void advance() throws IOException {
        if (current != null) {
            giveBack(current.array());
            current = null;
        }
        fill();
        Future<Fetched> head = inFlight.poll();
        if (head == null) {
            throw new IllegalStateException("the restore asked for more chunks than its manifest lists");
        }
        fill();
        current = WorkerPool.await(head);
        position = 0;
    }

    private void fill() {
        while (inFlight.size() < window && (pending != null || upcoming.hasNext())) {
            List<Wanted> run = nextRun();
            inFlight.add(pool.submit(() -> fetch(run)));
        }
    }

    /**
     * The next chunks that lie one after another in one pack, up to {@link #RUN_BYTES}: a backup
     * packs small files in the order it walks them, which is the order a restore writes them, so
     * the chunks of a directory of small files come back with one request instead of one each.
     */
    private List<Wanted> nextRun() {
        Wanted first = pending != null ? pending : upcoming.next();
        pending = null;
        List<Wanted> run = new ArrayList<>(List.of(first));
        if (!first.ref().isPacked() || !store.isValid(first.ref())) {
            return run;
        }
        long end = first.ref().end();
        while (upcoming.hasNext()) {
            Wanted w = upcoming.next();
            Manifest.ChunkRef ref = w.ref();
            if (ref.isPacked() && ref.pack().equals(first.ref().pack()) && ref.offset() == end
                    && store.isValid(ref) && ref.end() - first.ref().offset() <= RUN_BYTES) {
                run.add(w);
                end = ref.end();
            } else {
                pending = w;
                break;
            }
        }
        return run;
    }

    private Fetched fetch(List<Wanted> run) throws IOException {
        if (run.size() == 1) {
            ByteBuffer chunk = store.read(run.get(0).ref(), run.get(0).file(), take());
            return new Fetched(List.of(chunk), chunk.array());
        }
        long from = run.get(0).ref().offset();
        int length = (int) (run.get(run.size() - 1).ref().end() - from);
        ByteBuffer span;
        try {
            span = store.readPackSpan(run.get(0).ref().pack(), from, length, take());
        } catch (NoSuchFileException | EOFException e) {
            return fetchOneByOne(run); // each chunk's own read says what is wrong with it
        }
        List<ByteBuffer> chunks = new ArrayList<>(run.size());
        for (Wanted w : run) {
            chunks.add(store.openInSpan(w.ref(), w.file(), span, from));
        }
        return new Fetched(chunks, span.array());
    }

    /** Throws the first chunk's error, as a read of each alone would, in order. */
    private Fetched fetchOneByOne(List<Wanted> run) throws IOException {
        List<ByteBuffer> chunks = new ArrayList<>(run.size());
        for (Wanted w : run) {
            chunks.add(store.read(w.ref(), w.file(), NO_BUFFER));
        }
        return new Fetched(chunks, NO_BUFFER);
    }

    private byte[] take() {
        synchronized (spare) {
            byte[] array = spare.poll();
            return array != null ? array : NO_BUFFER;
        }
    }

    private void giveBack(byte[] array) {
        synchronized (spare) {
            if (array.length > 0 && spare.size() <= window) {
                spare.push(array);
            }
        }
    }

    @Override
    public void close() throws InterruptedIOException {
        pool.close();
    }
}
