package dev.strata.backup;

/**
 * What a prune deleted and kept.
 *
 * @param bytesDeleted the stored size of the deleted chunk objects
 * @param chunksKept the chunks left: referenced ones, and orphans younger than the grace period
 * @param skippedBusy a backup was running, so nothing was deleted
 */
public record PruneReport(long chunksDeleted, long bytesDeleted, long chunksKept, boolean skippedBusy) {
    static PruneReport busy() {
        return new PruneReport(0, 0, 0, true);
    }
}
