package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.backup.BackupException;
import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.common.model.BackupRef;
import dev.strata.testkit.CsiCalls;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Remote snapshots on the real cluster, as users take them: a VolumeSnapshot of the strata-backup
 * class (the manifests' file target, the node's /var/lib/strata-backups, which bin/cluster keeps
 * under its own directory) becomes ready to use once its backup is stored there, through the real
 * csi-snapshotter's CreateSnapshot retries; the StrataSnapshot names the backup's URL; a StorageClass
 * whose fromBackup is that URL restores it into a new claim, which a pod reads; deleting the
 * VolumeSnapshot removes the backup from the target. The plain class's scenario runs on overlay
 * (layers), the keyed one on shared (a tree of files).
 */
final class BackupScenario {
    static final String CLASS = "strata-e2e-from-backup";
    private static final Path BACKUPS = LocalCluster.DIR.resolve("strata-backups");
    private static final ResourceDefinitionContext STRATA_SNAPSHOTS = new ResourceDefinitionContext.Builder()
            .withGroup(RealClusterTest.DRIVER).withVersion("v1alpha1").withPlural("stratasnapshots")
            .withNamespaced(false).withKind("StrataSnapshot").build();
    private static final ResourceDefinitionContext CONTENTS = new ResourceDefinitionContext.Builder()
            .withGroup("snapshot.storage.k8s.io").withVersion("v1").withPlural("volumesnapshotcontents")
            .withNamespaced(false).withKind("VolumeSnapshotContent").build();

    private static final ResourceDefinitionContext SNAPSHOT_CLASSES = new ResourceDefinitionContext.Builder()
            .withGroup("snapshot.storage.k8s.io").withVersion("v1").withPlural("volumesnapshotclasses")
            .withNamespaced(false).withKind("VolumeSnapshotClass").build();
    private static final String KEYED_CLASS = "strata-e2e-keyed-backup";
    private static final String KEY_SECRET = "strata-e2e-backup-key";
    private static final String KEY = "a tenant's passphrase";
    private static final String BLOCKED_CLASS = "strata-e2e-blocked-backup";
    private static final String BLOCKED_TARGET = "file:///var/lib/strata-backups/blocked";

    private final TestNamespace ns;
    private final KubernetesClient client;

    BackupScenario(TestNamespace ns) {
        this.ns = ns;
        this.client = ns.client();
    }

    /** On an overlay volume: its snapshot's backup names its layers, and the restore rebuilds them. */
    void run() throws Exception {
        write("backed-up", "strata-overlay", "kept off the node");
        ns.snapshot("nightly", "backed-up", "strata-backup");

        String id = snapshotHandle("nightly");
        Map<String, Object> status = TestNamespace.status(client.genericKubernetesResources(STRATA_SNAPSHOTS)
                .withName(id).get());
        assertEquals("Stored", status.get("backupPhase"), "the StrataSnapshot's status: " + status);
        String url = String.valueOf(status.get("backupUrl"));
        assertEquals("file:///var/lib/strata-backups#" + id, url);
        assertTrue(Files.isRegularFile(BACKUPS.resolve("backups").resolve(id)), "the manifest is in the target on "
                + "the host, " + BACKUPS);
        System.out.printf("[cluster] VolumeSnapshot nightly (strata-backup) is ready to use with its backup stored "
                + "at %s%n", url);

        assertRestores(CLASS, Map.of("engine", "overlay", "fromBackup", url), "from-backup", "kept off the node");

        client.genericKubernetesResources(TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS)
                .withName("nightly").delete();
        TestNamespace.await("the backup's manifest leaves the target", () -> !Files.exists(BACKUPS.resolve("backups")
                .resolve(id)));
        TestNamespace.await("the StrataSnapshot goes", () -> client.genericKubernetesResources(STRATA_SNAPSHOTS)
                .withName(id).get() == null);
    }

    /**
     * The same with a class's own secrets, as a tenant keeps its backups: a Secret in the driver's
     * namespace holds the key; a VolumeSnapshotClass names it as its snapshotter secret, and a
     * StorageClass as its provisioner secret. The real csi-snapshotter and csi-provisioner read it
     * and pass its data to the calls; the backup in the target opens only with that key; the
     * restore reads it back; the delete removes the backup's chunks, which needs the key too.
     */
    void runWithClassSecrets() throws Exception {
        applyClassWithSecret(client, KEYED_CLASS, "file:///var/lib/strata-backups/keyed", KEY_SECRET,
                Map.of("backupKey", KEY));

        write("keyed-src", "strata-shared", "kept with the tenant key");
        ns.snapshot("keyed", "keyed-src", KEYED_CLASS);
        String id = snapshotHandle("keyed");
        Path target = BACKUPS.resolve("keyed");
        assertTrue(Files.isRegularFile(target.resolve("backups").resolve(id)), "the manifest is in " + target);
        BackupException locked = assertThrows(BackupException.class, () -> BackupRepository.open("file://" + target,
                BackupSecrets.NONE));
        assertEquals(BackupException.Kind.KEY_REQUIRED, locked.kind(), "the class's key encrypted the target");
        assertEquals(1, BackupRepository.open("file://" + target, BackupSecrets.keyOnly(KEY.getBytes(
                StandardCharsets.UTF_8))).list().size(), "the key opens it");
        assertTrue(client.secrets().inNamespace(RealClusterTest.DRIVER_NAMESPACE).withName("strata-secrets-" + id)
                .get() != null, "the controller's copy of the class's secret, for the node");

        Map<String, String> restore = new HashMap<>(Map.of("engine", "shared", "fromBackup",
                "file:///var/lib/strata-backups/keyed#" + id,
                "csi.storage.k8s.io/provisioner-secret-name", KEY_SECRET,
                "csi.storage.k8s.io/provisioner-secret-namespace", RealClusterTest.DRIVER_NAMESPACE));
        assertRestores(KEYED_CLASS, restore, "keyed-restored", "kept with the tenant key");

        client.genericKubernetesResources(TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS)
                .withName("keyed").delete();
        TestNamespace.await("the keyed backup's chunks leave the target", () -> !Files.exists(target.resolve(
                "backups").resolve(id)) && noFiles(target.resolve("chunks")) && noFiles(target.resolve("packs")));
        System.out.printf("[cluster] a VolumeSnapshotClass's own key encrypted %s; its StorageClass restored it; "
                + "the delete removed its chunks and packs%n", target);
    }

    /**
     * An upload that fails is the VolumeSnapshot's error, through the real csi-snapshotter and
     * snapshot-controller: with a target directory that holds other data (a file where a pack
     * directory would go) and no backup config, which makes it no Strata target (INVALID_ARGUMENT),
     * the snapshot is taken but not ready, and status.error holds the controller's answer, naming the
     * target; once the file is gone the node's next try stores it, and the error goes.
     */
    void aFailedUploadIsTheVolumeSnapshotsError() throws Exception {
        Path blocked = Files.createDirectories(BACKUPS.resolve("blocked"));
        Files.writeString(blocked.resolve("packs"), "in the way");
        applyClass(client, BLOCKED_CLASS, Map.of("backupTarget", BLOCKED_TARGET));
        write("blocked-src", "strata-shared", "kept once the target is mended");
        ns.createSnapshot("blocked", "blocked-src", BLOCKED_CLASS);
        String expected = BackupRef.UPLOAD_FAILED + BLOCKED_TARGET + " failed";
        TestNamespace.await("the VolumeSnapshot's error says its upload failed", () -> String.valueOf(
                snapshotError("blocked")).contains(expected));
        Map<String, Object> failed = TestNamespace.status(client.genericKubernetesResources(TestNamespace.SNAPSHOTS)
                .inNamespace(TestNamespace.NS).withName("blocked").get());
        assertEquals(false, failed.get("readyToUse"), "not ready to use: " + failed);
        System.out.printf("[cluster] a failing upload is the VolumeSnapshot's error: %s%n", snapshotError("blocked"));

        aSnapshotOfATargetStillBlockedIsDeleted(expected);
        Files.delete(blocked.resolve("packs"));
        ns.awaitReadyToUse("blocked");
        String id = snapshotHandle("blocked");
        assertTrue(Files.isRegularFile(blocked.resolve("backups").resolve(id)), "the manifest is in " + blocked);
        assertEquals(null, snapshotError("blocked"), "the error goes once the snapshot is ready");
        client.genericKubernetesResources(TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS)
                .withName("blocked").delete();
        TestNamespace.await("the backup's manifest leaves the target", () -> !Files.exists(blocked.resolve("backups")
                .resolve(id)));
    }

    /**
     * A second VolumeSnapshot into the same blocked target, deleted while it still fails: it goes, with
     * its content and its StrataSnapshot (nothing of it is in a directory that is no backup target),
     * and the directory keeps only what was there.
     */
    private void aSnapshotOfATargetStillBlockedIsDeleted(String expected) throws Exception {
        ns.createSnapshot("blocked-dropped", "blocked-src", BLOCKED_CLASS);
        TestNamespace.await("the second VolumeSnapshot's error says its upload failed", () -> String.valueOf(
                snapshotError("blocked-dropped")).contains(expected));
        TestNamespace.await("the content records the snapshot's ID", () -> handleOrNull("blocked-dropped") != null);
        String content = contentName("blocked-dropped");
        String id = snapshotHandle("blocked-dropped");
        client.genericKubernetesResources(TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS)
                .withName("blocked-dropped").delete();
        TestNamespace.await("the VolumeSnapshot, its content and the StrataSnapshot " + id + " go", () ->
                client.genericKubernetesResources(TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS)
                        .withName("blocked-dropped").get() == null
                        && client.genericKubernetesResources(CONTENTS).withName(content).get() == null
                        && client.genericKubernetesResources(STRATA_SNAPSHOTS).withName(id).get() == null);
        try (Stream<Path> left = Files.list(BACKUPS.resolve("blocked"))) {
            assertEquals(List.of("packs"), left.map(f -> f.getFileName().toString()).toList(),
                    "the blocked directory keeps only what was there");
        }
        System.out.printf("[cluster] a VolumeSnapshot whose upload still fails is deleted: %s%n", id);
    }

    /** The message of a VolumeSnapshot's status.error, or null. */
    private Object snapshotError(String volumeSnapshot) {
        Object error = TestNamespace.status(client.genericKubernetesResources(TestNamespace.SNAPSHOTS)
                .inNamespace(TestNamespace.NS).withName(volumeSnapshot).get()).get("error");
        return error instanceof Map<?, ?> m ? m.get("message") : null;
    }

    /** A claim of {@code storageClass} whose file f a pod writes {@code text} into (no quote in it: sh -c). */
    private void write(String claim, String storageClass, String text) throws Exception {
        ns.pvc(claim, storageClass, "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(TestNamespace.pod(claim + "-writer", claim, "echo " + text + " > /data/f && sync"));
    }

    /** A StorageClass with these parameters restores into a new claim whose file f a pod reads as {@code text}. */
    private void assertRestores(String storageClass, Map<String, String> parameters, String claim, String text)
            throws Exception {
        client.resource(new StorageClassBuilder().withNewMetadata().withName(storageClass).endMetadata()
                .withProvisioner(RealClusterTest.DRIVER).withParameters(parameters)
                .withVolumeBindingMode("WaitForFirstConsumer").withReclaimPolicy("Delete").build())
                .serverSideApply();
        ns.pvc(claim, storageClass, "64Mi", "ReadWriteOnce", null);
        assertEquals(text, ns.runToEnd(TestNamespace.pod(claim + "-reader", claim, "cat /data/f")).strip());
    }

    /**
     * A Secret in the driver's namespace with {@code secretData}, and a VolumeSnapshotClass (deletion
     * policy Delete) whose snapshots are stored in {@code backupTarget} and which names that Secret as
     * its snapshotter secret: a tenant's own backups.
     */
    static void applyClassWithSecret(KubernetesClient client, String snapshotClass, String backupTarget,
            String secret, Map<String, String> secretData) {
        client.secrets().inNamespace(RealClusterTest.DRIVER_NAMESPACE).resource(new SecretBuilder().withNewMetadata()
                .withName(secret).endMetadata().withStringData(secretData).build()).serverSideApply();
        applyClass(client, snapshotClass, Map.of("backupTarget", backupTarget,
                "csi.storage.k8s.io/snapshotter-secret-name", secret,
                "csi.storage.k8s.io/snapshotter-secret-namespace", RealClusterTest.DRIVER_NAMESPACE));
    }

    /** A VolumeSnapshotClass of the driver, deletion policy Delete, with these parameters. */
    private static void applyClass(KubernetesClient client, String snapshotClass, Map<String, String> parameters) {
        client.genericKubernetesResources(SNAPSHOT_CLASSES).resource(new GenericKubernetesResourceBuilder()
                .withApiVersion("snapshot.storage.k8s.io/v1").withKind("VolumeSnapshotClass")
                .withNewMetadata().withName(snapshotClass).endMetadata()
                .addToAdditionalProperties("driver", RealClusterTest.DRIVER)
                .addToAdditionalProperties("deletionPolicy", "Delete")
                .addToAdditionalProperties("parameters", parameters)
                .build()).serverSideApply();
    }

    /** Deletes what {@link #applyClassWithSecret} made. */
    static void deleteClassWithSecret(KubernetesClient client, String snapshotClass, String secret) {
        client.genericKubernetesResources(SNAPSHOT_CLASSES).withName(snapshotClass).delete();
        client.secrets().inNamespace(RealClusterTest.DRIVER_NAMESPACE).withName(secret).delete();
    }

    /**
     * Deletes the classes and the keyed and blocked targets' directories: they lie inside the plain class's target
     * (the one host path the manifests mount), where what a deleted backup leaves (the config, empty
     * directories) would make that target "hold data but no backup config" for a later scenario that
     * meets it empty.
     */
    void deleteClass() throws IOException {
        client.storage().v1().storageClasses().withName(CLASS).delete();
        client.storage().v1().storageClasses().withName(KEYED_CLASS).delete();
        deleteClassWithSecret(client, KEYED_CLASS, KEY_SECRET);
        client.genericKubernetesResources(SNAPSHOT_CLASSES).withName(BLOCKED_CLASS).delete();
        CsiCalls.deleteTree(BACKUPS.resolve("keyed"));
        CsiCalls.deleteTree(BACKUPS.resolve("blocked"));
    }

    private static boolean noFiles(Path dir) {
        try {
            return CsiCalls.files(dir).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** {@link #snapshotHandle}, or null while the VolumeSnapshot has no content or the content no handle. */
    private String handleOrNull(String volumeSnapshot) {
        try {
            String handle = snapshotHandle(volumeSnapshot);
            return "null".equals(handle) ? null : handle;
        } catch (RuntimeException notYet) {
            return null;
        }
    }

    /** The CSI snapshot ID behind a VolumeSnapshot: its content's status.snapshotHandle. */
    private String snapshotHandle(String volumeSnapshot) {
        return String.valueOf(TestNamespace.status(client.genericKubernetesResources(CONTENTS)
                .withName(contentName(volumeSnapshot)).get()).get("snapshotHandle"));
    }

    /** The VolumeSnapshotContent a VolumeSnapshot is bound to ("null" while it is bound to none). */
    private String contentName(String volumeSnapshot) {
        return String.valueOf(TestNamespace.status(client.genericKubernetesResources(TestNamespace.SNAPSHOTS)
                .inNamespace(TestNamespace.NS).withName(volumeSnapshot).get()).get("boundVolumeSnapshotContentName"));
    }

}
