package dev.strata.driver;

import static dev.strata.driver.RemoteSnapshotTest.assertSameTree;
import static dev.strata.driver.RemoteSnapshotTest.fill;
import static dev.strata.driver.RemoteSnapshotTest.fromBackup;
import static dev.strata.driver.RemoteSnapshotTest.remote;
import static dev.strata.driver.SnapshotUploads.awaitStored;
import static dev.strata.driver.SnapshotUploads.awaitUploadFailure;
import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.strata.common.ErrorMapper;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.Snapshot;
import dev.strata.testing.CapturedLog;
import dev.strata.testkit.Csi;
import dev.strata.testkit.S3Server;
import dev.strata.testkit.TestCertificate;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RemoteSnapshotTest}'s flow through S3: a real S3-compatible server in this JVM (S3Proxy), with
 * the drivers' own credentials, a call's, and a private CA's; and the server stopped mid-upload.
 */
class RemoteSnapshotS3Test {
    @RegisterExtension
    final CsiHarness hostA = new CsiHarness();

    @RegisterExtension
    final CsiHarness hostB = new CsiHarness();

    /** The ERROR a restore that cannot reach its target logs (INTERNAL), kept off the console. */
    @RegisterExtension
    final CapturedLog internalErrors = new CapturedLog(ErrorMapper.class);

    @TempDir
    Path shared;

    /** Only the private-CA test's refused restore is an internal error here: any other fails its test. */
    @AfterEach
    void noOtherInternalError(TestInfo test) {
        if (!test.getTestMethod().orElseThrow().getName().equals("aCallsCaOpensAnHttpsTargetUnderAPrivateCa")) {
            assertEquals(List.of(), internalErrors.at(Level.ERROR).stream().map(e -> e.getFormattedMessage() + ": "
                    + e.getThrowableProxy().getMessage()).toList(), "internal errors");
        }
    }

    /**
     * The same through S3: a real S3-compatible server in this JVM (S3Proxy), the drivers' credentials
     * from the AWS SDK's default chain (system properties here; the environment on a node). A delete
     * while the server is down answers UNAVAILABLE, naming the snapshot and its target, and keeps the
     * snapshot and its backup; once the server is back the delete (the CO's retry) removes both.
     */
    @Test
    void aRemoteSnapshotInS3IsRestoredOnAnotherHostAndItsDeleteEmptiesTheBucket() throws Exception {
        try (S3Server s3 = S3Server.start(Files.createDirectory(shared.resolve("s3")));
                S3Server.Undo keys = S3Server.keysAsDefaultCredentials()) {
            String target = s3.url(s3.createBucket("backups"), "team-a");
            String volume = hostA.createVolume("pvc-src").getVolumeId();
            fill(hostA.volumeDir(volume), 6);
            String id = awaitStored(hostA::controller, remote("snap-s3", volume, target)).getSnapshotId();
            String restored = hostB.controller().createVolume(fromBackup("pvc-moved", target + "#" + id))
                    .getVolume().getVolumeId();
            assertSameTree(hostA.snapshotDir(id), hostB.volumeDir(restored));

            s3.stop();
            String why = assertStatus(Status.Code.UNAVAILABLE, "snapshot " + id + "'s backup target: the backup "
                    + "target cannot be reached", () -> hostA.deleteSnapshot(id)).getStatus().getDescription();
            assertTrue(why.contains(target), why);
            assertTrue(Files.isDirectory(hostA.snapshotDir(id)), "the snapshot stays until its backup can go");
            s3.restart();
            assertTrue(s3.keys("backups", "").contains("team-a/backups/" + id), "the backup is still stored");

            hostA.deleteSnapshot(id);
            assertEquals(List.of("team-a/config"), s3.keys("backups", ""),
                    "only the target's config is left: no manifest, no chunk, no lock");
        }
    }

    /**
     * A call's secrets (a class's, in a cluster) open an S3 target the driver has no credentials for,
     * and their key encrypts it. An upload a restart interrupted resumes only on a call that brings
     * them again; the delete that brings them empties the bucket.
     */
    @Test
    void aCallsSecretsOpenAndKeyAnS3TargetTheDriverHasNoCredentialsFor() throws Exception {
        try (S3Server s3 = S3Server.start(Files.createDirectory(shared.resolve("s3")))) {
            String target = s3.url(s3.createBucket("tenant"), "b");
            Map<String, String> secrets = Map.of("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY,
                    "AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY, "backupKey", "the tenant's key");
            String volume = hostA.createVolume("pvc-src").getVolumeId();
            fill(hostA.volumeDir(volume), 8);
            CreateSnapshotRequest ask = remote("snap-tenant", volume, target).toBuilder().putAllSecrets(secrets)
                    .build();
            String id = hostA.controller().createSnapshot(ask).getSnapshot().getSnapshotId();
            hostA.restart(); // stops the upload wherever it is; the restart has no secrets to resume it with
            awaitStored(hostA::controller, ask);

            String url = target + "#" + id;
            assertStatus(Status.Code.FAILED_PRECONDITION, "backupKey", () -> hostB.controller().createVolume(
                    fromBackup("pvc-keyless", url).toBuilder().putSecrets("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY)
                            .putSecrets("AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY).build()));
            String restored = hostB.controller().createVolume(fromBackup("pvc-tenant", url).toBuilder()
                    .putAllSecrets(secrets).build()).getVolume().getVolumeId();
            assertSameTree(hostA.snapshotDir(id), hostB.volumeDir(restored));

            hostA.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(id)
                    .putAllSecrets(secrets).build());
            assertEquals(List.of("b/config"), s3.keys("tenant", ""), "only the target's config is left");
        }
    }

    /**
     * An S3 server under a private CA, over https: a call whose secrets name the CA (AWS_CERT, from a
     * class's Secret in a cluster) stores and restores on another host; one without it is refused there,
     * naming AWS_CERT.
     */
    @Test
    void aCallsCaOpensAnHttpsTargetUnderAPrivateCa() throws Exception {
        TestCertificate certificate = TestCertificate.make(Files.createDirectory(shared.resolve("tls")), "s3",
                "ip:127.0.0.1");
        try (S3Server s3 = S3Server.startHttps(Files.createDirectory(shared.resolve("s3")), certificate)) {
            String target = s3.url(s3.createBucket("private-ca"), "b");
            Map<String, String> credentials = Map.of("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY,
                    "AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
            Map<String, String> secrets = new java.util.HashMap<>(credentials);
            secrets.put("AWS_CERT", certificate.pem());
            String volume = hostA.createVolume("pvc-src").getVolumeId();
            fill(hostA.volumeDir(volume), 9);
            String id = awaitStored(hostA::controller, remote("snap-ca", volume, target).toBuilder()
                    .putAllSecrets(secrets).build()).getSnapshotId();

            String url = target + "#" + id;
            // INTERNAL, as for any target a restore cannot reach (logged so); the message says what to give
            assertStatus(Status.Code.INTERNAL, "AWS_CERT", () -> hostB.controller().createVolume(
                    fromBackup("pvc-untrusted", url).toBuilder().putAllSecrets(credentials).build()));
            assertEquals(1, internalErrors.at(Level.ERROR).size(), "the refused restore is logged once");
            String restored = hostB.controller().createVolume(fromBackup("pvc-ca", url).toBuilder()
                    .putAllSecrets(secrets).build()).getVolume().getVolumeId();
            assertSameTree(hostA.snapshotDir(id), hostB.volumeDir(restored));
        }
    }

    /**
     * The server stopped mid-upload: CreateSnapshot answers the failure (the CSI spec's "corresponding
     * gRPC error code" for post-cut processing), not a ready_to_use=false that never changes; the
     * snapshot stays cut; the call that answers the failure tries the upload again, and once the server
     * is back a try stores it. The other host restores it byte for byte, and its delete leaves nothing
     * of the failed try behind.
     */
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
