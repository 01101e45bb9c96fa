package dev.strata.common.model;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/** A group snapshot: one snapshot of each source volume, cut together. */
public record GroupSnapshotRecord(String id, String name, List<String> sourceVolumeIds, List<String> snapshotIds,
        RecordState state, Instant createdAt) {
    public GroupSnapshotRecord {
        sourceVolumeIds = List.copyOf(sourceVolumeIds);
        snapshotIds = List.copyOf(snapshotIds);
    }

    /**
     * Whether {@code ids}, a call's consistency check (Get and DeleteVolumeGroupSnapshot's
     * snapshot_ids), name exactly this group's snapshots; none given checks nothing.
     */
    public boolean matches(List<String> ids) {
        return ids.isEmpty() || Set.copyOf(ids).equals(Set.copyOf(snapshotIds));
    }

    public GroupSnapshotRecord withState(RecordState newState) {
        return new GroupSnapshotRecord(id, name, sourceVolumeIds, snapshotIds, newState, createdAt);
    }
}
