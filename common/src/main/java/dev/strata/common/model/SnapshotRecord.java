package dev.strata.common.model;

import java.time.Instant;

/**
 * A snapshot as Strata keeps it; {@code sizeBytes} is the smallest volume it can be restored into.
 * {@code groupSnapshotId} is set for a member of a group snapshot, which is deleted only with its group.
 */
public record SnapshotRecord(String id, String name, String sourceVolumeId, String engine, long sizeBytes,
        String groupSnapshotId, RecordState state, Instant createdAt) {
    public SnapshotRecord withState(RecordState newState) {
        return new SnapshotRecord(id, name, sourceVolumeId, engine, sizeBytes, groupSnapshotId, newState, createdAt);
    }
}
