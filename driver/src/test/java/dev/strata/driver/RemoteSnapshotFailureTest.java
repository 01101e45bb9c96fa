package dev.strata.driver;

import static dev.strata.driver.RemoteSnapshotTest.assertSameTree;
import static dev.strata.driver.SnapshotUploads.awaitStored;
import static dev.strata.driver.SnapshotUploads.awaitUploadFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.Snapshot;
import dev.strata.testkit.Csi;
import dev.strata.testkit.S3Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote snapshot whose S3 server stops mid-upload, through the CSI sockets of two standalone
 * drivers: CreateSnapshot answers the failure (the CSI spec's "corresponding gRPC error code" for
 * post-cut processing), not a ready_to_use=false that never changes; the snapshot stays cut; the
 * call that answers the failure tries the upload again, and once the server is back a try stores it.
 * The other host restores it byte for byte, and its delete leaves nothing of the failed try behind.
 */
class RemoteSnapshotFailureTest {
    @RegisterExtension
    final CsiHarness hostA = new CsiHarness();

    @RegisterExtension
    final CsiHarness hostB = new CsiHarness();

    @TempDir
    Path shared;

    @Test
    void anUploadWhoseServerStopsAnswersWhyAndATryAfterItIsBackStoresIt() throws Exception {
        try (S3Server s3 = S3Server.start(Files.createDirectory(shared.resolve("s3")));
                S3Server.Undo keys = S3Server.keysAsDefaultCredentials()) {
            String target = s3.url(s3.createBucket("backups"), "team-a");
            String volume = hostA.createVolume("pvc-src").getVolumeId();
            Random random = new Random(21);
            byte[] part = new byte[16 << 20];
            for (int i = 0; i < 6; i++) { // 96 MiB of random bytes: the upload takes a while
                random.nextBytes(part);
                Files.write(hostA.volumeDir(volume).resolve("part-" + i + ".bin"), part);
            }
            CreateSnapshotRequest ask = CreateSnapshotRequest.newBuilder().setName("snap-down")
                    .setSourceVolumeId(volume).putParameters("backupTarget", target).build();
            Snapshot cut = hostA.controller().createSnapshot(ask).getSnapshot();
            assertFalse(cut.getReadyToUse());
            awaitFirstObject(s3);
            s3.stop(); // mid-upload: some of its objects are stored

            StatusRuntimeException failed = awaitUploadFailure(hostA::controller, ask);
            String why = failed.getStatus().getDescription();
            assertEquals(Status.Code.UNAVAILABLE, failed.getStatus().getCode(), why);
            assertTrue(why.contains("snapshot " + cut.getSnapshotId() + " is cut, but its upload to s3://backups/"
                    + "team-a"), why);
            assertTrue(why.contains("parameters.backupTarget: the backup target cannot be reached"), why);
            assertEquals(List.of(cut.getSnapshotId()), hostA.listSnapshotIds(), "the snapshot stays cut");
            assertFalse(hostA.controller().listSnapshots(ListSnapshotsRequest.getDefaultInstance())
                    .getEntries(0).getSnapshot().getReadyToUse(), "and is not ready to use");

            s3.restart();
            Snapshot stored = awaitStored(hostA::controller, ask);
            String restored = hostB.controller().createVolume(Csi.createVolume("pvc-moved")
                    .putParameters("fromBackup", target + "#" + stored.getSnapshotId()).build())
                    .getVolume().getVolumeId();
            assertSameTree(hostA.snapshotDir(stored.getSnapshotId()), hostB.volumeDir(restored));

            hostA.deleteSnapshot(stored.getSnapshotId());
            assertEquals(List.of("team-a/config"), s3.keys("backups", ""),
                    "only the target's config is left: no chunk, pack or lock of either try");
        }
    }

    /** Waits until the upload has stored a chunk or a pack. */
    private static void awaitFirstObject(S3Server s3) throws InterruptedException {
        for (int i = 0; i < 3000; i++) {
            if (s3.keys("backups", "").stream().anyMatch(k -> k.startsWith("team-a/chunks/")
                    || k.startsWith("team-a/packs/"))) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the upload stored nothing in 30 s");
    }
}
