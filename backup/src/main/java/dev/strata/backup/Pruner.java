package dev.strata.backup;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds the indexes into one naming what the manifests reference ({@link IndexStore#replaceAll}), then
 * deletes the layers' backups no backup names, then the chunks and the packs no manifest left
 * references, then moves the live chunks out of packs more than half dead ({@link Repacker}). It
 * reads every manifest first and fails rather than guess if one cannot be read: a chunk deleted
 * wrongly cannot be brought back. Orphans younger than the grace period are kept (a layer's backup
 * by its creation time), and nothing is deleted while a backup runs: a backup that reuses a layer
 * checks that it is there under its lock.
 */
final class Pruner {
    private static final Logger LOG = LoggerFactory.getLogger(Pruner.class);
    /** Far longer than any one object's write takes: a temporary file this old belongs to a crash. */
    static final Duration INTERRUPTED_WRITE_AGE = Duration.ofHours(1);

    private final ChunkStore chunks;
    private final ManifestStore manifests;
    private final IndexStore indexes;
    private final Locks locks;

    Pruner(ChunkStore chunks, ManifestStore manifests, IndexStore indexes, Locks locks) {
        this.chunks = chunks;
        this.manifests = manifests;
        this.indexes = indexes;
        this.locks = locks;
    }

    PruneReport prune(Duration grace) throws IOException {
        if (grace == null || grace.isNegative()) {
            throw new BackupException(BackupException.Kind.INVALID, "invalid prune grace period " + grace);
        }
        Optional<Locks.Lock> acquired = locks.tryAcquirePrune();
        if (acquired.isEmpty()) {
            LOG.info("prune of {} skipped: a backup is running", chunks.url());
            return PruneReport.busy();
        }
        try (Locks.Lock lock = acquired.get()) {
            locks.deleteStale();
            chunks.sweepInterrupted(Instant.now().minus(INTERRUPTED_WRITE_AGE));
            Instant cutoff = Instant.now().minus(grace);
            ManifestStore.Referenced referenced = manifests.referenced(cutoff);
            indexes.replaceAll(referenced.kept(), referenced.chunks()); // before anything it names may go
            for (String layer : referenced.unnamedLayers()) {
                manifests.delete(layer);
            }
            if (!referenced.unnamedLayers().isEmpty()) {
                LOG.info("prune of {}: {} layers no backup names deleted", chunks.url(),
                        referenced.unnamedLayers().size());
            }
            Deleted loose = deleteUnreferenced(chunks.listIds(), referenced.chunks().ids(), ChunkStore::key, cutoff);
            Deleted packs = Deleted.NONE;
            Repacker.Repacked repacked = Repacker.Repacked.NONE;
            if (locks.packsInUse()) {
                LOG.info("prune of {}: no pack deleted or moved while a restore, a verify or a repack runs",
                        chunks.url());
            } else {
                Map<String, Long> stored = chunks.packSizes(); // one listing for both
                packs = deleteUnreferenced(stored.keySet(), referenced.chunks().packs(), ChunkStore::packKey, cutoff);
                repacked = new Repacker(chunks, manifests, indexes, locks).repack(referenced, stored);
            }
            LOG.info("prune of {}: {} chunks and {} packs deleted ({} bytes), {} chunks and {} packs kept", chunks.url(),
                    loose.count(), packs.count(), loose.bytes() + packs.bytes(), loose.kept(), packs.kept());
            return new PruneReport(loose.count(), packs.count() + repacked.deleted(),
                    loose.bytes() + packs.bytes() + repacked.bytesFreed(), loose.kept(), false, repacked.packs());
        }
    }

    private record Deleted(long count, long bytes, long kept) {
        static final Deleted NONE = new Deleted(0, 0, 0);
    }

    /** Deletes the stored chunks or packs ({@code keyOf} names their keys) that are unreferenced and old. */
    private Deleted deleteUnreferenced(Set<String> stored, Set<String> referenced, UnaryOperator<String> keyOf,
            Instant cutoff) throws IOException {
        long deleted = 0;
        long bytes = 0;
        long kept = 0;
        for (String name : stored) {
            String key = keyOf.apply(name);
            try {
                if (referenced.contains(name) || chunks.modified(key).isAfter(cutoff)) {
                    kept++;
                    continue;
                }
                bytes += chunks.delete(key);
                deleted++;
            } catch (NoSuchFileException e) {
                // deleted by someone else since listed
            }
        }
        return new Deleted(deleted, bytes, kept);
    }
}
