package dev.strata.common.model;

import java.time.Instant;

/** A snapshot as Strata keeps it; {@code sizeBytes} is the smallest volume it can be restored into. */
public record SnapshotRecord(String id, String name, String sourceVolumeId, String engine, long sizeBytes,
        RecordState state, Instant createdAt) {
    public SnapshotRecord withState(RecordState newState) {
        return new SnapshotRecord(id, name, sourceVolumeId, engine, sizeBytes, newState, createdAt);
    }
}
