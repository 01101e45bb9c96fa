package dev.strata.backup;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 *
 * <p>A chunk smaller than {@link #PACKED_BELOW} (a small file, a big file's tail) goes into a pack
 * with others, {@link PackFiller#PACK_BYTES} or so of them: one object where a tree of small files made one
 * per file, each a create and a rename (most of the time a first backup of 100,000 files took). On
 * a target where each object is a request ({@link BackupTarget#packsEveryChunk}) every chunk up to
 * {@link #PACKED_MAX} goes into packs. The
 * backup's own thread appends the sealed chunks in the order they were handed in, so where each
 * lands is known only then: {@link #locate} gives the manifest's entries their places once
 * {@link #finish} returned. A backup writes its manifest only after that.
 */
final class ChunkUploader implements AutoCloseable {
    private static final int THREADS = 2;
    private static final int WINDOW = 6;
    /** The Chunker cuts no chunk under 512 KiB but a file's last: only those are packed. */
    static final int PACKED_BELOW = 512 << 10;
    /** The largest chunk packed where every chunk is: the default largest chunk (a config may allow more). */
    static final int PACKED_MAX = 4 << 20;
    /**
     * The most a pack holds: a pack is put before the chunk that would take it past
     * {@link PackFiller#PACK_BYTES}. Packs written before every chunk was packed on S3 were put once
     * past it, their last chunk under {@link #PACKED_BELOW}: up to this much.
     */
    static final int MAX_PACK_BYTES = PackFiller.PACK_BYTES + PACKED_BELOW + 64;
    /** The most chunk bytes being sealed for packs at once, besides {@link #WINDOW}: a few big chunks. */
    private static final int SEALING_BYTES = 3 * PACKED_MAX;
    /** Packs being put at once: each holds {@link PackFiller#PACK_BYTES} of the driver's small heap. */
    private static final int PACKS_IN_FLIGHT = 2;

    private final ChunkStore store;
    /** The largest chunk packed: {@link #PACKED_MAX} where every chunk is, else under {@link #PACKED_BELOW}. */
    private final int packedUpTo;
    private final Set<String> known;
    /** Where the packed chunks known are: from the indexes and manifests read, and the packs this backup filled. */
    private final Map<String, Manifest.ChunkRef> packed;
    private final WorkerPool pool = new WorkerPool("backup-upload", THREADS);
    /** Puts of chunks and packs, oldest first. */
    private final ArrayDeque<Put> puts = new ArrayDeque<>();
    private final UploadCheckpoints checkpoints;
    private final ArrayDeque<Sealing> sealing = new ArrayDeque<>();
    private long sealingBytes;
    private final AtomicLong uploadedBytes = new AtomicLong();
    // one array per thread of the pool, whose threads end with this uploader (a long-lived thread's
    // would stay pinned by its ThreadLocalMap)
    private final ThreadLocal<byte[]> sealScratch;
    /**
     * Pack buffers free to fill: one being filled and {@link #PACKS_IN_FLIGHT} being put are all
     * there are. A pack goes to the target from the buffer it was filled in, which comes back when
     * its put is done: a new array per pack (8 MiB, beyond the young generation) made the small heap
     * run a full collection every few packs.
     */
    private final ArrayDeque<byte[]> freePackBuffers = new ArrayDeque<>();
    private final PackFiller packs = new PackFiller(
            () -> freePackBuffers.isEmpty() ? new byte[PackFiller.PACK_BYTES] : freePackBuffers.pop(), this::putPack);
    private final List<String> packsPut = new ArrayList<>();
    /** The chunks this uploader stored alone, for its backup's index. */
    private final List<String> storedAlone = new ArrayList<>();
    private long newChunks;

    /**
     * Arrays small chunks are sealed into, each {@link #smallRoom} long, given back once copied into
     * their pack: one new array per sealed chunk was a quarter of a backup's allocation. Used on the
     * backup's thread only.
     */
    private final ArrayDeque<byte[]> freeSealed = new ArrayDeque<>();
    private final int smallRoom;

    /** A chunk for the pack, being sealed on the pool into {@code out}; the future gives its stored length. */
    private record Sealing(String id, int size, byte[] out, Future<Integer> sealed) {}

    /**
     * A put under way: of a chunk stored alone ({@code chunk} its ID), or of a pack ({@code packed}
     * the places in it), whose future gives the pack's buffer back; {@code bytes} as stored.
     */
    private record Put(String chunk, List<Manifest.ChunkRef> packed, long bytes, Future<byte[]> done) {}

    private ChunkUploader(ChunkStore store, IndexStore indexes, Set<String> known,
            Map<String, Manifest.ChunkRef> packed) {
        this.store = store;
        this.checkpoints = new UploadCheckpoints(store, indexes);
        this.packedUpTo = store.packsEveryChunk() ? PACKED_MAX : PACKED_BELOW - 1;
        this.smallRoom = store.sealedRoom(PACKED_BELOW);
        this.known = known;
        this.packed = packed;
        this.sealScratch = ThreadLocal.withInitial(store::newSealScratch);
    }

    /** Knows every whole chunk of the target its indexes name ({@link IndexStore#known}). */
    static ChunkUploader knowingTheTarget(ChunkStore store, IndexStore indexes, IndexStore.Known known) {
        return new ChunkUploader(store, indexes, known.ids(), known.packed());
    }

    /**
     * Knows only the chunks {@code parent} references, which are whole while its manifest exists and
     * a backup lock is held (no prune runs then): an incremental image backup reuses the parent's
     * blocks and rarely meets a new block another backup has, so listing the target and reading
     * every manifest (most of its time, for a large device) would buy little. A new chunk another
     * backup has is stored again, which is harmless. So is a retry's: it does not read the
     * checkpoints a cut-off attempt left.
     */
    static ChunkUploader knowingTheParent(ChunkStore store, IndexStore indexes, Manifest parent) {
        ManifestStore.Chunks chunks = ManifestStore.Chunks.of(parent);
        return new ChunkUploader(store, indexes, chunks.ids(), chunks.packed());
    }

    /**
     * The chunk's ref; a packed one's place is known once {@link #finish} returned ({@link #locate}).
     * The bytes are copied if new: the caller may use {@code data} again at once.
     */
    Manifest.ChunkRef upload(byte[] data, int offset, int length) throws IOException {
        return upload(data, offset, length, false);
    }

    /** {@link #upload} of a buffer's remaining bytes that its caller never uses again: nothing is copied. */
    Manifest.ChunkRef uploadOwned(ByteBuffer chunk) throws IOException {
        return upload(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining(), true);
    }

    private Manifest.ChunkRef upload(byte[] data, int offset, int length, boolean owned) throws IOException {
        String id = store.idOf(data, offset, length);
        if (!isKnown(id)) { // a failed store fails the backup, which then writes no manifest
            known.add(id);
            // the bytes from 0 to length of an array nobody else writes: the sealing runs later
            byte[] mine = owned && offset == 0 ? data : Arrays.copyOfRange(data, offset, offset + length);
            newChunks++;
            if (length <= packedUpTo) {
                sealForPack(id, mine, length);
            } else {
                storedAlone.add(id);
                awaitPutsBelow(WINDOW);
                checkpoints.writeIfDue();
                puts.add(new Put(id, null, length, pool.submit(() -> {
                    uploadedBytes.addAndGet(store.write(id, mine, 0, length, sealScratch.get()));
                    return (byte[]) null;
                })));
            }
        }
        Manifest.ChunkRef where = packed.get(id);
        return where != null ? where : new Manifest.ChunkRef(id, length);
    }

    private void sealForPack(String id, byte[] data, int length) throws IOException {
        while (sealing.size() >= WINDOW || !sealing.isEmpty() && sealingBytes + length > SEALING_BYTES) {
            packOldest();
        }
        byte[] out = sealedArray(store.sealedRoom(length));
        sealingBytes += length;
        sealing.add(new Sealing(id, length, out,
                pool.submit(() -> store.sealInto(id, data, 0, length, sealScratch.get(), out))));
    }

    /**
     * An array a chunk is sealed into: a small chunk's from those used again, a big one's its own,
     * as big as it needs (kept for the next, each would hold 4 MiB, a window of them most of a
     * backup's heap).
     */
    private byte[] sealedArray(int room) {
        if (room > smallRoom) {
            return new byte[room];
        }
        return freeSealed.isEmpty() ? new byte[smallRoom] : freeSealed.pop();
    }

    /** Appends the oldest sealed chunk to the open pack ({@link PackFiller}: it puts the pack when due). */
    private void packOldest() throws IOException {
        Sealing next = sealing.poll();
        int sealed = WorkerPool.await(next.sealed());
        sealingBytes -= next.size();
        Manifest.ChunkRef place = packs.add(new Manifest.ChunkRef(next.id(), next.size()), next.out(), 0, sealed);
        packed.put(next.id(), place);
        if (next.out().length == smallRoom) {
            freeSealed.push(next.out());
        }
    }

    /** The filler's sink: a due pack is put on the pool, once fewer than {@link #PACKS_IN_FLIGHT} are. */
    private void putPack(String name, byte[] buffer, int length, List<Manifest.ChunkRef> chunks) throws IOException {
        packsPut.add(name);
        awaitPutsBelow(PACKS_IN_FLIGHT);
        checkpoints.writeIfDue();
        puts.add(new Put(null, chunks, length, pool.submit(() -> {
            store.writePack(name, buffer, length);
            uploadedBytes.addAndGet(length);
            return buffer;
        })));
    }

    /** Waits for the oldest puts until fewer than {@code limit} are under way; tells the checkpoints what landed. */
    private void awaitPutsBelow(int limit) throws IOException {
        while (puts.size() >= limit) {
            Put put = puts.poll();
            byte[] freed = WorkerPool.await(put.done());
            if (freed != null) {
                freePackBuffers.push(freed);
            }
            if (put.chunk() != null) {
                checkpoints.chunkLanded(put.chunk(), put.bytes());
            } else {
                checkpoints.packLanded(put.packed(), put.bytes());
            }
        }
    }

    /** Waits until every chunk handed to {@link #upload} is stored; throws the first failure. */
    void finish() throws IOException {
        while (!sealing.isEmpty()) {
            packOldest();
        }
        packs.finish();
        awaitPutsBelow(1);
        freePackBuffers.clear(); // 25 MiB the manifest's writing needs more
        freeSealed.clear();
    }

    /**
     * Deletes the packs this uploader wrote that no checkpoint names ({@link UploadCheckpoints}),
     * after a failure before its backup's manifest was written: nothing can find them (a pack is
     * found only through an index or a manifest that names it), and a backup retried until it
     * succeeds would otherwise leave a new set of orphans at every try for a prune to find. Chunks
     * stored alone stay: another backup may have stored the same one at the same moment. Best
     * effort: what cannot be deleted is added to {@code failure}.
     */
    void discardPacks(Throwable failure) {
        try {
            pool.close(); // no put still landing behind the deletes
        } catch (InterruptedIOException e) {
            failure.addSuppressed(e);
            return;
        }
        for (String name : packsPut) {
            if (checkpoints.names(name)) {
                continue; // the retry's
            }
            try {
                store.delete(ChunkStore.packKey(name));
            } catch (NoSuchFileException e) {
                // its put had not begun, or failed
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }

    /**
     * The entries with each packed chunk's place filled in: what the manifest stores. An entry whose
     * chunks all have theirs already (most of an incremental backup's) is kept as it is.
     */
    List<Manifest.Entry> locate(List<Manifest.Entry> entries) {
        List<Manifest.Entry> located = new ArrayList<>(entries.size());
        for (Manifest.Entry e : entries) {
            List<Manifest.ChunkRef> chunks = locateChunks(e.chunks());
            located.add(chunks == e.chunks() ? e : new Manifest.Entry(e.path(), e.type(), e.mode(), e.uid(), e.gid(),
                    e.mtimeNanos(), e.size(), e.inode(), e.target(), chunks, e.opaque()));
        }
        return located;
    }

    /** The same list when no chunk of it was waiting for its place. */
    private List<Manifest.ChunkRef> locateChunks(List<Manifest.ChunkRef> chunks) {
        List<Manifest.ChunkRef> located = null;
        for (int i = 0; i < chunks.size(); i++) {
            Manifest.ChunkRef ref = chunks.get(i);
            Manifest.ChunkRef where = ref.isHole() || ref.isPacked() ? null : packed.get(ref.id());
            if (where != null && located == null) {
                located = new ArrayList<>(chunks.subList(0, i));
            }
            if (located != null) {
                located.add(where != null ? where : ref);
            }
        }
        return located == null ? chunks : located;
    }

    /** Whether a chunk list reused from the parent is still whole on the target. */
    boolean haveAll(Iterable<Manifest.ChunkRef> chunks) {
        for (Manifest.ChunkRef ref : chunks) {
            if (!isKnown(ref.id())) {
                return false;
            }
        }
        return true;
    }

    /** On the target whole, or handed to this uploader: {@code known} holds the chunks stored alone. */
    private boolean isKnown(String id) {
        return known.contains(id) || packed.containsKey(id);
    }

    /** The chunks this uploader stored alone; final once {@link #finish} returned. */
    List<String> storedAlone() {
        return storedAlone;
    }

    /** Where this uploader packed chunks: the places in the packs it put; final once {@link #finish} returned. */
    List<Manifest.ChunkRef> storedPacked() {
        Set<String> mine = new HashSet<>(packsPut);
        return packed.values().stream().filter(ref -> mine.contains(ref.pack())).toList();
    }

    /** Deletes the checkpoints once the backup's own index names all they did; best effort. */
    void deleteCheckpoints() {
        checkpoints.deleteAll();
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
