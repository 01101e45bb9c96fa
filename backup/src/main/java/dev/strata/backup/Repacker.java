package dev.strata.backup;

import dev.strata.common.CrashPoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back the space of mostly dead packs, as {@code restic prune} does: a pack whose referenced
 * chunks take less than half of it has them copied into new packs as they are stored (each is sealed
 * alone, its ID the AAD, so it moves without being opened again); small packs (each backup's last,
 * and all of a small backup's) are merged the same way once together they fill a pack, so that a
 * target of many small backups is not one object per backup. Then every manifest naming them is
 * rewritten to name the new places; only then does the old pack go. At every moment each manifest
 * names whole packs: a crash leaves the new packs unnamed, or the old ones, and a later prune
 * deletes them as any orphan. The new packs are indexed once durable, before any manifest names
 * them. A chunk is checked against its ID before it moves: a pack holding a
 * corrupt one stays as it is, for verify to report. Runs inside a prune (no backup runs), under a
 * repack lock (see {@link Locks}); the old packs stay while a reader holds a lock.
 */
final class Repacker {
    private static final Logger LOG = LoggerFactory.getLogger(Repacker.class);
    /** A pack under half the usual size: the last of a backup, or all of a small backup's. */
    static final int SMALL_PACK_BYTES = PackFiller.PACK_BYTES / 2;

    private final ChunkStore chunks;
    private final ManifestStore manifests;
    private final IndexStore indexes;
    private final Locks locks;

    /** What a repack did: the packs it emptied, those of them it deleted, and the bytes that gave back. */
    record Repacked(long packs, long deleted, long bytesFreed) {
        static final Repacked NONE = new Repacked(0, 0, 0);
    }

    Repacker(ChunkStore chunks, ManifestStore manifests, IndexStore indexes, Locks locks) {
        this.chunks = chunks;
        this.manifests = manifests;
        this.indexes = indexes;
        this.locks = locks;
    }

    /** {@code stored}: every pack on the target with its size, as the prune listed them. */
    Repacked repack(ManifestStore.Referenced referenced, Map<String, Long> stored) throws IOException {
        Map<String, Long> chosen = packsToRepack(referenced.chunks(), stored);
        if (chosen.isEmpty()) {
            return Repacked.NONE;
        }
        Optional<Locks.Lock> acquired = locks.tryAcquireRepack();
        if (acquired.isEmpty()) {
            LOG.info("repack of {} skipped: another repack or a backup's removal is running", chunks.url());
            return Repacked.NONE;
        }
        try (Locks.Lock lock = acquired.get()) {
            Map<Manifest.ChunkRef, Manifest.ChunkRef> moved = new HashMap<>();
            byte[] buffer = new byte[PackFiller.PACK_BYTES]; // each pack is written before the next is filled
            PackFiller filler = new PackFiller(() -> buffer, (name, full, length, placed) -> chunks.writePack(name,
                    full, length));
            for (String pack : List.copyOf(chosen.keySet())) {
                if (!copyLive(pack, referenced.chunks().refsIn(pack), filler, moved)) {
                    chosen.remove(pack);
                }
            }
            filler.finish();
            chunks.flush();
            if (!moved.isEmpty()) {
                indexes.write(List.of(), List.of(), moved.values()); // the new places, for the next backups
            }
            CrashPoint.reach("backup.repack.packed"); // new packs no manifest names yet
            for (String name : referenced.naming(chosen.keySet())) {
                rewrite(name, moved);
            }
            CrashPoint.reach("backup.repack.rewritten"); // old packs no manifest names any more
            return deleteOld(chosen);
        }
    }

    /**
     * The referenced packs to move, with their stored sizes: those more than half dead, and the small
     * ones once their live chunks would fill a pack (a missing pack has nothing to move). Merging
     * only then makes every merge write at least one full pack, so no chunk is copied again and again
     * through a row of merges each leaving a small pack behind.
     */
    private static Map<String, Long> packsToRepack(ManifestStore.Chunks referenced, Map<String, Long> stored) {
        Map<String, Long> chosen = new TreeMap<>();
        Map<String, Long> small = new TreeMap<>();
        long smallLive = 0;
        for (Map.Entry<String, Long> e : referenced.livePackBytes().entrySet()) {
            Long size = stored.get(e.getKey());
            if (size == null) {
                continue;
            }
            if (e.getValue() * 2 < size) {
                chosen.put(e.getKey(), size);
            } else if (size < SMALL_PACK_BYTES) {
                small.put(e.getKey(), size);
                smallLive += e.getValue();
            }
        }
        if (smallLive >= PackFiller.PACK_BYTES) {
            chosen.putAll(small);
        }
        return chosen;
    }

    /** Copies the pack's live chunks into the filler, recording where each went; false (nothing moved) when one is bad. */
    private boolean copyLive(String pack, List<Manifest.ChunkRef> live, PackFiller filler,
            Map<Manifest.ChunkRef, Manifest.ChunkRef> moved) throws IOException {
        byte[] whole;
        try {
            whole = chunks.readPack(pack);
        } catch (BackupException e) {
            LOG.warn("repack of {}: pack {} left as it is: {}", chunks.url(), pack, e.getMessage());
            return false;
        }
        live.sort(Comparator.comparingLong(Manifest.ChunkRef::offset));
        for (Manifest.ChunkRef ref : live) {
            String where = "chunk " + ref.id() + " in pack " + pack;
            try {
                if (!chunks.isValid(ref) || ref.end() > whole.length) {
                    throw new BackupException(BackupException.Kind.CORRUPT, where + ": its place is outside the pack");
                }
                chunks.open(ref, ByteBuffer.wrap(whole, (int) ref.offset(), ref.stored()).slice(), where);
            } catch (BackupException e) {
                LOG.warn("repack of {}: pack {} left as it is: {}", chunks.url(), pack, e.getMessage());
                return false;
            }
        }
        for (Manifest.ChunkRef ref : live) {
            moved.put(ref, filler.add(ref, whole, (int) ref.offset(), ref.stored()));
        }
        return true;
    }

    /** Rewrites one manifest to name the chunks' new places; one removed since it was read is left removed. */
    private void rewrite(String name, Map<Manifest.ChunkRef, Manifest.ChunkRef> moved) throws IOException {
        Manifest manifest;
        try {
            manifest = manifests.read(name);
        } catch (BackupException e) {
            if (e.kind() == BackupException.Kind.NOT_FOUND) {
                return;
            }
            throw e;
        }
        List<Manifest.Entry> entries = new ArrayList<>(manifest.entries().size());
        boolean changed = false;
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry.chunks().stream().anyMatch(moved::containsKey)) {
                entry = entry.withChunks(entry.chunks().stream().map(ref -> moved.getOrDefault(ref, ref)).toList());
                changed = true;
            }
            entries.add(entry);
        }
        if (changed) {
            manifests.write(manifest.withEntries(entries));
        }
    }

    private Repacked deleteOld(Map<String, Long> emptied) throws IOException {
        if (emptied.isEmpty()) {
            return Repacked.NONE;
        }
        if (locks.anyReader()) {
            LOG.info("repack of {}: {} packs no manifest names any more are kept while a restore or a verify "
                    + "reads; a later prune deletes them", chunks.url(), emptied.size());
            return new Repacked(emptied.size(), 0, 0);
        }
        long freed = 0;
        long deleted = 0;
        for (var pack : emptied.entrySet()) {
            try {
                chunks.delete(ChunkStore.packKey(pack.getKey()));
                freed += pack.getValue();
                deleted++;
            } catch (NoSuchFileException e) {
                // deleted by someone else since
            }
        }
        LOG.info("repack of {}: {} packs emptied and deleted ({} bytes)", chunks.url(), deleted, freed);
        return new Repacked(emptied.size(), deleted, freed);
    }
}
