package dev.strata.common.model;

import java.time.Instant;

/**
 * A snapshot as Strata keeps it; {@code sizeBytes} is the smallest volume it can be restored into.
 * {@code groupSnapshotId} is set for a member of a group snapshot, which is deleted only with its group.
 * {@code backup} is set for a snapshot also kept off the node (a remote snapshot); null otherwise.
 */
public record SnapshotRecord(String id, String name, String sourceVolumeId, String engine, long sizeBytes,
        String groupSnapshotId, RecordState state, Instant createdAt, BackupRef backup) {
    /** A snapshot kept on the node only. */
    public SnapshotRecord(String id, String name, String sourceVolumeId, String engine, long sizeBytes,
            String groupSnapshotId, RecordState state, Instant createdAt) {
        this(id, name, sourceVolumeId, engine, sizeBytes, groupSnapshotId, state, createdAt, null);
    }

    public SnapshotRecord withState(RecordState newState) {
        return new SnapshotRecord(id, name, sourceVolumeId, engine, sizeBytes, groupSnapshotId, newState, createdAt,
                backup);
    }

    public SnapshotRecord withBackup(BackupRef newBackup) {
        return new SnapshotRecord(id, name, sourceVolumeId, engine, sizeBytes, groupSnapshotId, state, createdAt,
                newBackup);
    }

    /** CSI's ready_to_use: cut, and, for a remote snapshot, safely stored in its target. */
    public boolean readyToUse() {
        return state == RecordState.READY && (backup == null || backup.phase() == BackupRef.Phase.STORED);
    }
}
