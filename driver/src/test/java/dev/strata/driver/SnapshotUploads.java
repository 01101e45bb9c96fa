package dev.strata.driver;

import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.Snapshot;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Waiting for a remote snapshot's upload, as the external-snapshotter does. */
final class SnapshotUploads {
    private SnapshotUploads() {}

    /**
     * CreateSnapshot again until ready_to_use, for up to a minute; ABORTED (the upload is recording
     * its outcome under the snapshot's lock) is retried, as the sidecar does, and any other failure
     * is thrown as it came (a crash test expects the dropped connection).
     */
    static Snapshot awaitStored(ControllerGrpc.ControllerBlockingStub controller, CreateSnapshotRequest req)
            throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            try {
                Snapshot s = controller.createSnapshot(req).getSnapshot();
                if (s.getReadyToUse()) {
                    return s;
                }
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED) {
                    throw e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the remote snapshot " + req.getName() + " was not stored within a minute");
    }
}
