package dev.strata.backup;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One backup's view of which chunks the target already has whole: listed once at the start, then
 * added to as the backup stores more, so a chunk already there costs a hash and no request. Where
 * puts are buffered ({@link BackupTarget#orphansAreWhole} false), a chunk no manifest references may
 * be one a power cut tore before its flush: it is written again rather than trusted. Counts what the
 * backup had to store.
 *
 * <p>A new chunk is sealed (compressed, encrypted) and stored on a few threads while the backup goes
 * on reading and hashing: on the one thread, the CPU waited for every put and the target for every
 * seal. At most {@link #WINDOW} chunks are in flight, each a copy (the chunker reuses its buffer).
 * {@link #finish} waits for them all; a backup writes its manifest only after it.
 */
final class ChunkUploader implements AutoCloseable {
    private static final int THREADS = 2;
    private static final int WINDOW = 6;

    private final ChunkStore store;
    private final Set<String> known;
    private final WorkerPool pool = new WorkerPool("backup-upload", THREADS);
    private final ArrayDeque<Future<?>> inFlight = new ArrayDeque<>();
    private final AtomicLong uploadedBytes = new AtomicLong();
    // one array per thread of the pool, whose threads end with this uploader (a long-lived thread's
    // would stay pinned by its ThreadLocalMap)
    private final ThreadLocal<byte[]> sealScratch;
    private long newChunks;

    private ChunkUploader(ChunkStore store, Set<String> known) {
        this.store = store;
        this.known = known;
        this.sealScratch = ThreadLocal.withInitial(store::newSealScratch);
    }

    /** Knows every whole chunk of the target: one listing, and where orphans may be torn, every manifest. */
    static ChunkUploader knowingTheTarget(ChunkStore store, ManifestStore manifests) throws IOException {
        Set<String> known = store.listIds();
        if (!store.orphansAreWhole()) {
            known.retainAll(manifests.referencedChunkIds());
        }
        return new ChunkUploader(store, known);
    }

    /**
     * Knows only the chunks {@code parent} references, which are whole while its manifest exists and
     * a backup lock is held (no prune runs then): an incremental image backup reuses the parent's
     * blocks and rarely meets a new block another backup has, so listing the target and reading
     * every manifest (most of its time, for a large device) would buy little. A new chunk another
     * backup has is stored again, which is harmless.
     */
    static ChunkUploader knowingTheParent(ChunkStore store, Manifest parent) {
        return new ChunkUploader(store, ManifestStore.chunkIdsOf(parent));
    }

    Manifest.ChunkRef upload(byte[] data, int offset, int length) throws IOException {
        String id = store.idOf(data, offset, length);
        if (!known.contains(id)) {
            while (inFlight.size() >= WINDOW) {
                WorkerPool.await(inFlight.poll());
            }
            byte[] copy = Arrays.copyOfRange(data, offset, offset + length);
            inFlight.add(pool.submit(() -> {
                uploadedBytes.addAndGet(store.write(id, copy, 0, copy.length, sealScratch.get()));
                return null;
            }));
            newChunks++;
            known.add(id); // a failed store fails the backup, which then writes no manifest
        }
        return new Manifest.ChunkRef(id, length);
    }

    /** Waits until every chunk handed to {@link #upload} is stored; throws the first failure. */
    void finish() throws IOException {
        while (!inFlight.isEmpty()) {
            WorkerPool.await(inFlight.poll());
        }
    }

    /** Whether a chunk list reused from the parent is still whole on the target. */
    boolean haveAll(Iterable<Manifest.ChunkRef> chunks) {
        for (Manifest.ChunkRef ref : chunks) {
            if (!known.contains(ref.id())) {
                return false;
            }
        }
        return true;
    }

    long newChunks() {
        return newChunks;
    }

    /** What was stored; final once {@link #finish} returned. */
    long uploadedBytes() {
        return uploadedBytes.get();
    }

    /** Drops the stores not yet begun and waits for those running (an interrupted or failed backup; a finished one has none). */
    @Override
    public void close() throws InterruptedIOException {
        pool.close();
    }
}
