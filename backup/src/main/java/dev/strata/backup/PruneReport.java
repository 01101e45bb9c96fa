package dev.strata.backup;

/**
 * What a prune deleted and kept.
 *
 * @param chunksDeleted the chunks stored as objects of their own that were deleted
 * @param packsDeleted the packs deleted: those no manifest references a chunk of, and those a
 *     repack emptied
 * @param bytesDeleted the stored size of the deleted chunks and packs
 * @param chunksKept the chunks left: referenced ones, and orphans younger than the grace period
 * @param skippedBusy a backup was running, so nothing was deleted
 * @param packsRepacked the packs (more than half dead, or small ones merged) whose live chunks moved to new packs
 */
public record PruneReport(long chunksDeleted, long packsDeleted, long bytesDeleted, long chunksKept, boolean skippedBusy,
        long packsRepacked) {
    static PruneReport busy() {
        return new PruneReport(0, 0, 0, 0, true, 0);
    }
}
