package dev.strata.driver;

import static dev.strata.driver.SnapshotUploads.awaitStored;
import static dev.strata.driver.SnapshotUploads.awaitUploadFailure;
import static dev.strata.driver.ClusterTest.assertCode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.api.v1alpha1.SecretCopies;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataSnapshotStatus;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.backup.BackupException;
import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.common.model.Ids;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.Volume;
import dev.strata.csi.v1.VolumeContentSource;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Remote snapshots in cluster mode: the controller plugin and two node plugins through the API
 * server (fabric8's mock server), with a file target both nodes reach (one directory here, as an NFS
 * export mounted on every node would be). The snapshot is cut on its volume's node and reported
 * taken at once; it is ready to use once its backup is stored (an upload that fails is answered as
 * CreateSnapshot's error and tried again, and never fails the snapshot); its backup URL restores on
 * the other node, as does a CreateVolume from the snapshot whose topology names the other node; and
 * deleting it removes what only it used from the target.
 */
class ClusterRemoteSnapshotTest {
    @RegisterExtension
    final ClusterHarness cluster = new ClusterHarness();

    @Test
    void aSnapshotStoredOffItsNodeIsRestoredOnTheOtherNodeAndItsDeleteEmptiesTheTarget() throws Exception {
        cluster.startNode("node-a");
        cluster.startNode("node-b");
        cluster.startController();
        String source = cluster.controller().createVolume(ClusterTest.volumeOn("pvc-src", "node-b").build())
                .getVolume().getVolumeId();
        Path data = CsiCalls.dirVolumeData(cluster.dataDir("node-b"), "dir", source);
        byte[] blob = new byte[4 << 20];
        new Random(16).nextBytes(blob);
        Files.write(data.resolve("blob.bin"), blob);
        Files.writeString(data.resolve("config"), "v1");
        Path targetDir = Files.createDirectories(cluster.root().resolve("target"));
        String target = "file://" + targetDir;
        CreateSnapshotRequest ask = remote("snap-remote", source, target);
        // The target cannot take chunks at first (a file where its pack directory goes): the upload
        // fails, and the snapshot stays taken but not ready to use; it is never Failed, which would
        // make the controller delete it.
        Files.writeString(targetDir.resolve("packs"), "in the way");
        Snapshot first = cluster.controller().createSnapshot(ask).getSnapshot();
        assertFalse(first.getReadyToUse(), "not ready before its backup is stored");
        StrataSnapshotStatus failing = awaitBackupPhase(first.getSnapshotId(), "Failed");
        assertEquals("Ready", failing.getPhase(), "taken, whatever its upload did");
        assertFalse(failing.isReadyToUse());
        assertTrue(failing.getMessage().contains("failed (tried again)"), failing.getMessage());
        assertEquals("INVALID_ARGUMENT", failing.getBackupErrorCode(), "what the target's failure maps to");
        assertTrue(failing.getBackupError().contains("parameters.backupTarget"), failing.getBackupError());
        // A controller that has not given this caller the snapshot's ID (here one restarted; as well a
        // first answer lost to the caller's deadline) answers it first, though the upload has failed: a
        // CO deletes only what it holds the ID of, and an error carries none.
        cluster.stopController();
        cluster.startController();
        Snapshot again = cluster.controller().createSnapshot(ask).getSnapshot();
        assertEquals(first.getSnapshotId(), again.getSnapshotId());
        assertFalse(again.getReadyToUse());
        // CreateSnapshot answers the failure (the CO shows it as the VolumeSnapshot's error) while the
        // status says Failed; the node tries again at its next refresh, which says Uploading meanwhile.
        StatusRuntimeException answered = awaitUploadFailure(cluster::controller, ask);
        assertEquals(Status.Code.INVALID_ARGUMENT, answered.getStatus().getCode());
        assertTrue(answered.getStatus().getDescription().contains(first.getSnapshotId() + " is cut, but its upload "
                + "to " + target), answered.getStatus().getDescription());
        assertTrue(answered.getStatus().getDescription().contains("parameters.backupTarget"),
                answered.getStatus().getDescription());
        StatusRuntimeException notYet = assertCode(Status.Code.RESOURCE_EXHAUSTED, () -> cluster.controller()
                .createVolume(fromSnapshot("pvc-early", first.getSnapshotId(), "node-a")));
        assertTrue(notYet.getStatus().getDescription().contains("no stored backup"), notYet.getStatus()
                .getDescription());

        assertNotNull(cluster.api().resources(StrataSnapshot.class).withName(first.getSnapshotId()).get(),
                "a failed upload never deletes the snapshot");

        // The target mended: the node's next try stores it.
        Files.delete(targetDir.resolve("packs"));
        Snapshot snap = awaitStored(cluster::controller, ask);
        assertEquals(first.getSnapshotId(), snap.getSnapshotId());
        StrataSnapshotStatus status = cluster.api().resources(StrataSnapshot.class).withName(snap.getSnapshotId())
                .get().getStatus();
        assertEquals("Stored", status.getBackupPhase());
        assertTrue(status.getBackupUrl().endsWith("#" + snap.getSnapshotId()), status.getBackupUrl());
        assertFalse(CsiCalls.files(targetDir.resolve("packs")).isEmpty(), "the backup's small chunks are in a pack");
        assertTrue(cluster.controller().listSnapshots(ListSnapshotsRequest.getDefaultInstance()).getEntriesList()
                .stream().anyMatch(e -> e.getSnapshot().getSnapshotId().equals(snap.getSnapshotId())
                        && e.getSnapshot().getReadyToUse()));
        assertCode(Status.Code.ALREADY_EXISTS, () -> cluster.controller().createSnapshot(remote("snap-remote",
                source, target + "-elsewhere")));

        // Flocker's move: the backup's URL, as a StorageClass's fromBackup, makes the volume on the other node.
        Volume moved = cluster.controller().createVolume(ClusterTest.volumeOn("pvc-moved", "node-a")
                .putParameters("fromBackup", status.getBackupUrl()).build()).getVolume();
        assertEquals(List.of(ClusterTest.on("node-a")), moved.getAccessibleTopologyList());
        Path restored = CsiCalls.dirVolumeData(cluster.dataDir("node-a"), "dir", moved.getVolumeId());
        assertEquals("v1", Files.readString(restored.resolve("config")));
        assertArrayEquals(blob, Files.readAllBytes(restored.resolve("blob.bin")));

        // The CSI way: a claim whose dataSource is the VolumeSnapshot, its pod scheduled on the other
        // node. The volume is made there from the backup, and says it came from the snapshot.
        Volume elsewhere = cluster.controller().createVolume(fromSnapshot("pvc-elsewhere", snap.getSnapshotId(),
                "node-a")).getVolume();
        assertEquals(List.of(ClusterTest.on("node-a")), elsewhere.getAccessibleTopologyList());
        assertEquals(snap.getSnapshotId(), elsewhere.getContentSource().getSnapshot().getSnapshotId());
        assertArrayEquals(blob, Files.readAllBytes(CsiCalls.dirVolumeData(cluster.dataDir("node-a"), "dir",
                elsewhere.getVolumeId()).resolve("blob.bin")));
        assertEquals(status.getBackupUrl(), cluster.api().resources(StrataVolume.class)
                .withName(elsewhere.getVolumeId()).get().getSpec().getContentSource().getBackupUrl());
        // Allowed on its own node, the restore stays local: no backup named.
        Volume local = cluster.controller().createVolume(fromSnapshot("pvc-local", snap.getSnapshotId(), "node-b"))
                .getVolume();
        assertEquals(List.of(ClusterTest.on("node-b")), local.getAccessibleTopologyList());
        assertNull(cluster.api().resources(StrataVolume.class).withName(local.getVolumeId()).get().getSpec()
                .getContentSource().getBackupUrl());
        assertEquals("v1", Files.readString(CsiCalls.dirVolumeData(cluster.dataDir("node-b"), "dir",
                local.getVolumeId()).resolve("config")));
        // Both a backup and a content source: refused before anything is written.
        StatusRuntimeException both = assertCode(Status.Code.INVALID_ARGUMENT, () -> cluster.controller()
                .createVolume(fromSnapshot("pvc-both", snap.getSnapshotId(), "node-a").toBuilder()
                        .putParameters("fromBackup", status.getBackupUrl()).build()));
        assertTrue(both.getStatus().getDescription().contains("fromBackup"), both.getStatus().getDescription());
        assertNull(cluster.api().resources(StrataVolume.class).withName(Ids.volumeId("pvc-both")).get());

        cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snap.getSnapshotId())
                .build());
        assertNull(cluster.api().resources(StrataSnapshot.class).withName(snap.getSnapshotId()).get());
        assertTrue(cluster.snapshotOn("node-b", snap.getSnapshotId()).isEmpty(), "the local snapshot is gone");
        assertEquals(List.of(), CsiCalls.files(targetDir.resolve("backups")), "its manifest is gone");
        assertEquals(List.of(), CsiCalls.files(targetDir.resolve("chunks")), "no chunk only it used is left");
        assertEquals(List.of(), CsiCalls.files(targetDir.resolve("packs")), "nor any pack");
    }

    /**
     * A VolumeSnapshotClass's secrets (its snapshotter secret: here the key) reach the node as the
     * controller's Secret copy, owned by the resource and never in it; they encrypt the backup, restore
     * it on the other node (the snapshot's copy serves a restore whose own call carries none), and
     * remove it with its chunks on delete.
     */
    @Test
    void aClassesSecretsReachTheNodeAsACopyThatEncryptsRestoresAndDeletes() throws Exception {
        cluster.startNode("node-a");
        cluster.startNode("node-b");
        cluster.startController();
        String source = cluster.controller().createVolume(ClusterTest.volumeOn("pvc-src", "node-b").build())
                .getVolume().getVolumeId();
        byte[] blob = new byte[1 << 20];
        new Random(18).nextBytes(blob);
        Files.write(CsiCalls.dirVolumeData(cluster.dataDir("node-b"), "dir", source).resolve("blob.bin"), blob);
        Path targetDir = Files.createDirectories(cluster.root().resolve("target"));
        String target = "file://" + targetDir;
        Map<String, String> secrets = Map.of("backupKey", "the tenant's passphrase");

        StatusRuntimeException half = assertCode(Status.Code.INVALID_ARGUMENT, () -> cluster.controller()
                .createSnapshot(remote("snap-half", source, target).toBuilder()
                        .putSecrets("AWS_ACCESS_KEY_ID", "id-only").build()));
        assertTrue(half.getStatus().getDescription().contains("AWS_SECRET_ACCESS_KEY"), half.getStatus()
                .getDescription());
        assertFalse(half.getStatus().getDescription().contains("id-only"), "never a secret's value");

        CreateSnapshotRequest ask = remote("snap-keyed", source, target).toBuilder().putAllSecrets(secrets).build();
        cluster.controller().createSnapshot(ask);
        Snapshot snap = awaitStored(cluster::controller, ask);
        StrataSnapshot resource = cluster.api().resources(StrataSnapshot.class).withName(snap.getSnapshotId()).get();
        String copy = resource.getSpec().getSecretName();
        assertEquals(SecretCopies.name(snap.getSnapshotId()), copy);
        assertFalse(Serialization.asJson(resource).contains("passphrase"), "no secret in the resource");
        Secret secret = cluster.api().secrets().inAnyNamespace().list().getItems().stream()
                .filter(x -> x.getMetadata().getName().equals(copy)).findFirst().orElseThrow();
        assertEquals(resource.getMetadata().getUid(), secret.getMetadata().getOwnerReferences().get(0).getUid(),
                "owned by its snapshot: collected after it");
        BackupException locked = assertThrows(BackupException.class, () -> BackupRepository.open(target,
                BackupSecrets.NONE));
        assertEquals(BackupException.Kind.KEY_REQUIRED, locked.kind(), "the class's key encrypted the target");

        Volume elsewhere = cluster.controller().createVolume(fromSnapshot("pvc-keyed", snap.getSnapshotId(),
                "node-a")).getVolume();
        assertArrayEquals(blob, Files.readAllBytes(CsiCalls.dirVolumeData(cluster.dataDir("node-a"), "dir",
                elsewhere.getVolumeId()).resolve("blob.bin")), "restored with the snapshot's copy");
        assertEquals(copy, cluster.api().resources(StrataVolume.class).withName(elsewhere.getVolumeId()).get()
                .getSpec().getSecretName());
        String url = target + "#" + snap.getSnapshotId();
        StatusRuntimeException keyless = assertCode(Status.Code.FAILED_PRECONDITION, () -> cluster.controller()
                .createVolume(ClusterTest.volumeOn("pvc-keyless", "node-a").putParameters("fromBackup", url)
                        .build()));
        assertTrue(keyless.getStatus().getDescription().contains("backupKey"), keyless.getStatus().getDescription());
        Volume own = cluster.controller().createVolume(ClusterTest.volumeOn("pvc-own", "node-a")
                .putParameters("fromBackup", url).putAllSecrets(secrets).build()).getVolume();
        assertEquals(SecretCopies.name(own.getVolumeId()), cluster.api().resources(StrataVolume.class)
                .withName(own.getVolumeId()).get().getSpec().getSecretName(), "a restore's own secrets: its copy");

        cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snap.getSnapshotId())
                .putAllSecrets(secrets).build());
        assertEquals(List.of(), CsiCalls.files(targetDir.resolve("backups")), "its manifest is gone");
        assertEquals(List.of(), CsiCalls.files(targetDir.resolve("chunks")), "its chunks too: the key was there");
        assertEquals(List.of(), CsiCalls.files(targetDir.resolve("packs")), "and its packs");
    }

    @Test
    void aTargetTheNodeCannotUseFailsWithTheNodesCodeAndLeavesNoSnapshot() throws Exception {
        cluster.startNode("node-a");
        cluster.startController();
        String source = cluster.controller().createVolume(ClusterTest.volumeOn("pvc-src", "node-a").build())
                .getVolume().getVolumeId();
        StatusRuntimeException refused = assertCode(Status.Code.INVALID_ARGUMENT, () -> cluster.controller()
                .createSnapshot(remote("snap-bad", source, "ftp://somewhere/backups")));
        assertTrue(refused.getStatus().getDescription().contains("backupTarget"), refused.getStatus().getDescription());
        // Removed behind the node's finalizer, which lets it go once nothing of it is stored.
        for (int i = 0; i < 120 && !cluster.api().resources(StrataSnapshot.class).list().getItems().isEmpty(); i++) {
            Thread.sleep(250);
        }
        assertEquals(List.of(), cluster.api().resources(StrataSnapshot.class).list().getItems(),
                "the refused snapshot's resource is removed");
    }

    /**
     * The node plugin killed (as by kill -9) once the backup is in the target but before its record
     * says so: the restarted plugin finishes the upload it had acknowledged nothing of, and the
     * snapshot becomes ready to use with one backup in the target.
     */
    @Test
    void aNodeKilledMidUploadFinishesItWhenItComesBack() throws Exception {
        Process crashing = cluster.nodeProcess("node-a", "snapshot.backup.stored");
        cluster.startController();
        String source = cluster.controller().createVolume(ClusterTest.volumeOn("pvc-src", "node-a").build())
                .getVolume().getVolumeId();
        byte[] blob = new byte[16 << 20]; // long enough an upload that the node reports the cut first
        new Random(5).nextBytes(blob);
        Files.write(CsiCalls.dirVolumeData(cluster.dataDir("node-a"), "dir", source).resolve("blob.bin"), blob);
        Path targetDir = Files.createDirectories(cluster.root().resolve("target"));
        CreateSnapshotRequest ask = remote("snap-killed", source, "file://" + targetDir);
        try {
            assertFalse(cluster.controller().createSnapshot(ask).getSnapshot().getReadyToUse());
        } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.ABORTED, e.getStatus().getCode(), "the node died before it reported: " + e);
        }
        assertTrue(crashing.waitFor(60, TimeUnit.SECONDS), "killed at its crash point");
        assertEquals(137, crashing.exitValue());
        String id = Ids.snapshotId("snap-killed");
        StrataSnapshotStatus last = cluster.api().resources(StrataSnapshot.class).withName(id).get().getStatus();
        assertTrue(last == null || "Uploading".equals(last.getBackupPhase()), "not reported stored: " + last);

        cluster.nodeProcess("node-a", null);
        Snapshot stored = awaitStored(cluster::controller, ask);
        assertEquals(id, stored.getSnapshotId());
        assertEquals("Stored", cluster.api().resources(StrataSnapshot.class).withName(id).get().getStatus()
                .getBackupPhase());
        assertEquals(List.of(targetDir.resolve("backups").resolve(id)), CsiCalls.files(targetDir.resolve("backups")),
                "one backup, under the snapshot's ID");
        Volume restored = cluster.controller().createVolume(ClusterTest.volumeOn("pvc-back", "node-a")
                .putParameters("fromBackup", "file://" + targetDir + "#" + id).build()).getVolume();
        assertArrayEquals(blob, Files.readAllBytes(CsiCalls.dirVolumeData(cluster.dataDir("node-a"), "dir",
                restored.getVolumeId()).resolve("blob.bin")), "the backup restores what was cut");
    }

    private static CreateVolumeRequest fromSnapshot(String name, String snapshotId, String node) {
        return ClusterTest.volumeOn(name, node).setVolumeContentSource(VolumeContentSource.newBuilder()
                .setSnapshot(VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshotId))).build();
    }

    private static CreateSnapshotRequest remote(String name, String volumeId, String target) {
        return Csi.snapshot(name, volumeId).toBuilder().putParameters("backupTarget", target).build();
    }

    private StrataSnapshotStatus awaitBackupPhase(String id, String phase) throws InterruptedException {
        StrataSnapshotStatus st = null;
        for (int i = 0; i < 240; i++) {
            st = cluster.api().resources(StrataSnapshot.class).withName(id).get().getStatus();
            if (st != null && phase.equals(st.getBackupPhase())) {
                return st;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("backup phase " + phase + " not reported within a minute: " + (st == null ? null
                : st.getBackupPhase() + " " + st.getMessage()));
    }
}
