package dev.strata.driver;

import dev.strata.common.model.BackupRef;
import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.Snapshot;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.Supplier;

/** Waiting for a remote snapshot's upload, as the external-snapshotter does. */
final class SnapshotUploads {
    private SnapshotUploads() {}

    /**
     * CreateSnapshot again until ready_to_use, for up to a minute; ABORTED (the upload is recording
     * its outcome under the snapshot's lock) and a failed upload (tried again) are retried, as the
     * sidecar does, and any other failure is thrown as it came (a crash test expects the dropped
     * connection).
     */
    static Snapshot awaitStored(Supplier<ControllerGrpc.ControllerBlockingStub> controller, CreateSnapshotRequest req)
            throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            try {
                Snapshot s = controller.get().createSnapshot(req).getSnapshot();
                if (s.getReadyToUse()) {
                    return s;
                }
            } catch (StatusRuntimeException e) {
                String description = String.valueOf(e.getStatus().getDescription());
                if (e.getStatus().getCode() != Status.Code.ABORTED && !description.contains(BackupRef.UPLOAD_FAILED)) {
                    throw e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the remote snapshot " + req.getName() + " was not stored within a minute");
    }

    /**
     * CreateSnapshot again until it answers that the upload failed, for up to three minutes (a server
     * stopped mid-put may leave the SDK to its 30 s socket timeout, per attempt), and that answer; not
     * ready (uploading, or tried again) and ABORTED are asked again. Stored is an assertion error.
     */
    static StatusRuntimeException awaitUploadFailure(Supplier<ControllerGrpc.ControllerBlockingStub> controller,
            CreateSnapshotRequest req) throws InterruptedException {
        for (int i = 0; i < 1800; i++) {
            try {
                if (controller.get().createSnapshot(req).getSnapshot().getReadyToUse()) {
                    throw new AssertionError("the remote snapshot " + req.getName() + " was stored");
                }
            } catch (StatusRuntimeException e) {
                if (String.valueOf(e.getStatus().getDescription()).contains(BackupRef.UPLOAD_FAILED)) {
                    return e;
                }
                if (e.getStatus().getCode() != Status.Code.ABORTED) {
                    throw e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("CreateSnapshot of " + req.getName() + " did not answer a failed upload in 3 minutes");
    }
}
