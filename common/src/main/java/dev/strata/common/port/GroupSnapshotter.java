package dev.strata.common.port;

import dev.strata.common.model.GroupSnapshotRecord;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Group snapshots: several volumes cut at one moment. A provider whose volumes of one group can be
 * frozen together offers it (standalone, where they are on one host). Same contract as
 * {@link Provisioner}: idempotent, and failures are {@code CsiException}s.
 */
public interface GroupSnapshotter {
    /** Snapshots the volumes together, or returns the group already made under this name for them. */
    GroupSnapshotRecord createGroupSnapshot(String name, List<String> sourceVolumeIds, Map<String, String> parameters);

    /** Deletes the group and its snapshots; an unknown group succeeds. */
    void deleteGroupSnapshot(String groupSnapshotId, List<String> snapshotIds);

    Optional<GroupSnapshotRecord> findGroupSnapshot(String groupSnapshotId);
}
