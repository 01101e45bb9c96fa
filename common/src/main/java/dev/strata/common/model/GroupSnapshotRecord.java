package dev.strata.common.model;

import java.time.Instant;
import java.util.List;

/** A group snapshot: one snapshot of each source volume, cut together. */
public record GroupSnapshotRecord(String id, String name, List<String> sourceVolumeIds, List<String> snapshotIds,
        RecordState state, Instant createdAt) {
    public GroupSnapshotRecord {
        sourceVolumeIds = List.copyOf(sourceVolumeIds);
        snapshotIds = List.copyOf(snapshotIds);
    }

    public GroupSnapshotRecord withState(RecordState newState) {
        return new GroupSnapshotRecord(id, name, sourceVolumeIds, snapshotIds, newState, createdAt);
    }
}
