package dev.strata.controller;

import dev.strata.common.CsiException;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.SnapshotRecord;
import io.grpc.Context;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What CreateSnapshot answers for a remote snapshot whose upload failed: the failure, as the CSI spec
 * asks of post-cut processing that fails ("a corresponding gRPC error code", not ready_to_use), but
 * only to a CO that has already been answered the snapshot's ID.
 *
 * <p>Why: a CO deletes only a snapshot it holds the ID of, and an error carries none. The
 * csi-snapshotter calls DeleteSnapshot only for a content whose status has a snapshot handle, and
 * forgets a creation it was answered a final error for. A failure answered first (the controller read
 * the node's status after the upload had failed, the answer that carried the ID was lost to the
 * caller's deadline, or the controller restarted) would leave the cut snapshot and its resource
 * behind once the VolumeSnapshot is deleted. So the first answer is the snapshot, not ready to use;
 * the call after it answers the failure. A controller that restarts answers the ID once more, which
 * costs a CO one more call.
 */
final class SnapshotAnswers {
    /** Remote snapshots whose ID a caller still waiting for the answer was given. */
    private final Set<String> idsAnswered = ConcurrentHashMap.newKeySet();

    /** The snapshot to answer with; throws its upload's failure once the caller has been given its ID. */
    SnapshotRecord answer(SnapshotRecord s) {
        BackupRef b = s.backup();
        if (b == null) {
            return s; // kept on its node: once cut, nothing more can fail
        }
        if (b.phase() == BackupRef.Phase.FAILED && idsAnswered.contains(s.id())) {
            throw CsiException.named(b.code(), "snapshot " + s.id() + BackupRef.UPLOAD_FAILED + b.target()
                    + " failed, and is tried again: " + b.message());
        }
        // A caller whose deadline has passed hears no answer, so it has not been given the ID.
        if (!Context.current().isCancelled()) {
            idsAnswered.add(s.id());
        }
        return s;
    }

    /** The snapshot is gone: a later one of the same name starts afresh. */
    void forget(String snapshotId) {
        idsAnswered.remove(snapshotId);
    }
}
