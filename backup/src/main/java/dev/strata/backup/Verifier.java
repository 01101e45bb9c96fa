package dev.strata.backup;

import dev.strata.backup.ChunkPrefetch.Wanted;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;

/**
 * Re-reads every chunk a backup references, each once, and checks it as a restore would; then what
 * the target's indexes say of those chunks. Problems are collected, not thrown, so one report lists
 * all the damage.
 */
final class Verifier {
    /** As many as a restore reads with. */
    private static final int THREADS = 3;
    private final ChunkStore store;
    private final ManifestStore manifests;
    private final IndexStore indexes;
    private final int maxChunk;
    private final List<String> problems = new ArrayList<>();
    /** Each chunk checked, by ID, as the first manifest entry naming it places it. */
    private final Map<String, Manifest.ChunkRef> checked = new HashMap<>();
    private long bytes;
    /** Each worker reads into the array of its last chunk or span. */
    private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[0]);

    Verifier(ChunkStore store, ManifestStore manifests, IndexStore indexes, int maxChunk) {
        this.store = store;
        this.manifests = manifests;
        this.indexes = indexes;
        this.maxChunk = maxChunk;
    }

    /** One verifier per report: it counts each chunk once across an overlay snapshot's layers. */
    VerifyReport verify(Manifest manifest) throws IOException {
        if (check(manifest) && ManifestChecks.isLayered(manifest)) {
            for (Manifest.Entry layer : manifest.entries()) {
                verifyLayer(layer.target());
            }
        } else {
            verifyChunks(manifest);
        }
        verifyIndexes();
        return new VerifyReport(manifest.name(), checked.size(), bytes, problems);
    }

    private boolean check(Manifest manifest) {
        try {
            ManifestChecks.check(manifest, maxChunk);
            return true;
        } catch (BackupException e) {
            problems.add(e.getMessage());
            return false;
        }
    }

    private void verifyLayer(String name) throws IOException {
        Manifest layer;
        try {
            layer = manifests.read(name);
        } catch (BackupException e) {
            if (e.kind() != BackupException.Kind.NOT_FOUND && e.kind() != BackupException.Kind.CORRUPT) {
                throw e;
            }
            problems.add(e.getMessage());
            return;
        }
        if (check(layer) && !LayerBackup.isNamedByContent(store, layer)) {
            problems.add("the layer " + name + " does not hold the content its name says");
        }
        verifyChunks(layer);
    }

    /**
     * Checks the manifest's chunks not checked yet, on {@link #THREADS} threads (opening and hashing
     * 100,000 small chunks on one thread took longer than restic's check reading them all). A
     * pack's are read with one request for the span they take, not one each: restic's check reads
     * pack by pack too. Anything wrong with that read, a pack missing or shorter than its chunks,
     * sends its chunks through the one-by-one read, which names each one's problem. Problems are
     * reported in the order of the work, whichever thread finds them.
     */
    private void verifyChunks(Manifest manifest) throws IOException {
        Map<String, List<Wanted>> packed = new TreeMap<>();
        List<Callable<Tally>> work = new ArrayList<>();
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry == null || entry.chunks() == null) {
                continue;
            }
            for (Manifest.ChunkRef ref : entry.chunks()) {
                if (ref == null || ref.isHole() || checked.putIfAbsent(ref.id(), ref) != null) {
                    continue;
                }
                Wanted chunk = new Wanted(ref, entry.path()); // the file that names it first
                if (ref.isPacked() && store.isValid(ref)) {
                    packed.computeIfAbsent(ref.pack(), p -> new ArrayList<>()).add(chunk);
                } else {
                    work.add(() -> verifyOne(chunk, new Tally()));
                }
            }
        }
        packed.forEach((pack, chunks) -> work.add(() -> verifyPack(pack, chunks)));
        run(work);
    }

    private void run(List<Callable<Tally>> work) throws IOException {
        try (WorkerPool pool = new WorkerPool("backup-verify", THREADS)) {
            ArrayDeque<Future<Tally>> inFlight = new ArrayDeque<>();
            Iterator<Callable<Tally>> next = work.iterator();
            while (next.hasNext() || !inFlight.isEmpty()) {
                while (inFlight.size() < 2 * THREADS && next.hasNext()) {
                    inFlight.add(pool.submit(next.next()));
                }
                Tally done = WorkerPool.await(inFlight.poll());
                bytes += done.bytes;
                problems.addAll(done.problems);
            }
        }
    }

    /** What one piece of the work checked; each is confined to the thread that does it. */
    private static final class Tally {
        long bytes;
        final List<String> problems = new ArrayList<>();
    }

    private Tally verifyPack(String pack, List<Wanted> chunks) throws IOException {
        Tally tally = new Tally();
        long from = chunks.stream().mapToLong(c -> c.ref().offset()).min().orElseThrow();
        long to = chunks.stream().mapToLong(c -> c.ref().end()).max().orElseThrow();
        ByteBuffer span = null;
        if (to - from <= ChunkUploader.MAX_PACK_BYTES) {
            try {
                span = store.readPackSpan(pack, from, (int) (to - from), buffers.get());
                buffers.set(span.array());
            } catch (NoSuchFileException | EOFException e) {
                // each chunk's own read says what is wrong with it
            }
        }
        for (Wanted chunk : chunks) {
            if (span == null) {
                verifyOne(chunk, tally);
                continue;
            }
            try {
                tally.bytes += store.openInSpan(chunk.ref(), chunk.file(), span, from).remaining();
            } catch (BackupException e) {
                tally.problems.add(e.getMessage());
            }
        }
        return tally;
    }

    private Tally verifyOne(Wanted chunk, Tally tally) throws IOException {
        try {
            ByteBuffer plain = store.read(chunk.ref(), chunk.file(), buffers.get());
            buffers.set(plain.array());
            tally.bytes += plain.remaining();
        } catch (BackupException e) {
            if (e.kind() != BackupException.Kind.MISSING_CHUNK && e.kind() != BackupException.Kind.CORRUPT) {
                throw e;
            }
            tally.problems.add(e.getMessage());
        }
        return tally;
    }

    /**
     * Checks what the target's indexes say of the chunks this backup references: each index must
     * open, and an entry placing one of them where this check did not read it must hold it there. A
     * wrong entry would have the next backup that stores the same content reference a place that
     * does not hold it. Entries whose pack or chunk is gone are stale: backups do not trust them,
     * so they are not reported. A prune rewrites every index from the manifests.
     */
    private void verifyIndexes() throws IOException {
        Set<String> packs = null;
        Set<String> alone = null;
        for (String key : indexes.keys()) { // one at a time: together they may be big
            IndexStore.Read read = indexes.readForCheck(key);
            if (read == null) {
                continue;
            }
            if (read.index() == null) {
                problems.add(read.problem() + "; backups read the manifests it covers instead, and a prune "
                        + "rewrites it");
                continue;
            }
            for (Manifest.ChunkRef entry : read.index().packed()) {
                Manifest.ChunkRef ours = checked.get(entry.id());
                if (ours != null && !entry.equals(ours)) {
                    packs = packs != null ? packs : store.listPacks();
                    if (packs.contains(entry.pack())) {
                        verifyEntry(read.key(), entry);
                    }
                }
            }
            for (String id : read.index().chunks()) {
                Manifest.ChunkRef ours = checked.get(id);
                if (ours != null && ours.isPacked()) { // stored alone too: this check read the packed copy
                    alone = alone != null ? alone : store.listIds();
                    if (alone.contains(id)) {
                        verifyEntry(read.key(), new Manifest.ChunkRef(id, ours.size()));
                    }
                }
            }
        }
    }

    private void verifyEntry(String index, Manifest.ChunkRef entry) throws IOException {
        String where = "chunk " + entry.id() + " as the index " + index + " places it" + (entry.isPacked()
                ? " (pack " + entry.pack() + " at " + entry.offset() + ")" : " (stored alone)");
        try {
            buffers.set(store.readAs(entry, where, buffers.get()).array());
        } catch (BackupException e) {
            if (e.kind() != BackupException.Kind.MISSING_CHUNK && e.kind() != BackupException.Kind.CORRUPT) {
                throw e;
            }
            problems.add(e.getMessage() + "; a prune rewrites the indexes from the manifests");
        }
    }
}
