package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Remote snapshots on the real cluster, as users take them: a VolumeSnapshot of the strata-backup
 * class (the manifests' file target, the node's /var/lib/strata-backups, which bin/cluster keeps
 * under its own directory) becomes ready to use once its backup is stored there, through the real
 * csi-snapshotter's CreateSnapshot retries; the StrataSnapshot names the backup's URL; a StorageClass
 * whose fromBackup is that URL restores it into a new claim, which a pod reads; deleting the
 * VolumeSnapshot removes the backup from the target.
 */
final class BackupScenario {
    static final String CLASS = "strata-e2e-from-backup";
    private static final Path BACKUPS = Path.of(System.getenv().getOrDefault("STRATA_CLUSTER_DIR",
            "/var/lib/strata-cluster"), "strata-backups");
    private static final ResourceDefinitionContext STRATA_SNAPSHOTS = new ResourceDefinitionContext.Builder()
            .withGroup(RealClusterTest.DRIVER).withVersion("v1alpha1").withPlural("stratasnapshots")
            .withNamespaced(false).withKind("StrataSnapshot").build();
    private static final ResourceDefinitionContext CONTENTS = new ResourceDefinitionContext.Builder()
            .withGroup("snapshot.storage.k8s.io").withVersion("v1").withPlural("volumesnapshotcontents")
            .withNamespaced(false).withKind("VolumeSnapshotContent").build();

    private final RealClusterTest test;
    private final KubernetesClient client;

    BackupScenario(RealClusterTest test) {
        this.test = test;
        this.client = test.client();
    }

    void run() throws Exception {
        test.pvc("backed-up", "strata-shared", "64Mi", "ReadWriteOnce", null);
        test.runToEnd(RealClusterTest.pod("backup-writer", "backed-up", "echo kept off the node > /data/f && sync"));
        test.snapshot("nightly", "backed-up", "strata-backup");

        String id = snapshotHandle("nightly");
        Map<String, Object> status = status(client.genericKubernetesResources(STRATA_SNAPSHOTS).withName(id).get());
        assertEquals("Stored", status.get("backupPhase"), "the StrataSnapshot's status: " + status);
        String url = String.valueOf(status.get("backupUrl"));
        assertEquals("file:///var/lib/strata-backups#" + id, url);
        assertTrue(Files.isRegularFile(BACKUPS.resolve("backups").resolve(id)), "the manifest is in the target on "
                + "the host, " + BACKUPS);
        System.out.printf("[cluster] VolumeSnapshot nightly (strata-backup) is ready to use with its backup stored "
                + "at %s%n", url);

        client.resource(new StorageClassBuilder().withNewMetadata().withName(CLASS).endMetadata()
                .withProvisioner(RealClusterTest.DRIVER).withParameters(Map.of("engine", "shared", "fromBackup", url))
                .withVolumeBindingMode("WaitForFirstConsumer").withReclaimPolicy("Delete").build())
                .serverSideApply();
        test.pvc("from-backup", CLASS, "64Mi", "ReadWriteOnce", null);
        assertEquals("kept off the node", test.runToEnd(RealClusterTest.pod("backup-reader", "from-backup",
                "cat /data/f")).strip());

        client.genericKubernetesResources(RealClusterTest.SNAPSHOTS).inNamespace(RealClusterTest.NS)
                .withName("nightly").delete();
        RealClusterTest.await("the backup's manifest leaves the target", () -> !Files.exists(BACKUPS.resolve("backups")
                .resolve(id)));
        RealClusterTest.await("the StrataSnapshot goes", () -> client.genericKubernetesResources(STRATA_SNAPSHOTS)
                .withName(id).get() == null);
    }

    void deleteClass() {
        client.storage().v1().storageClasses().withName(CLASS).delete();
    }

    /** The CSI snapshot ID behind a VolumeSnapshot: its content's status.snapshotHandle. */
    private String snapshotHandle(String volumeSnapshot) {
        GenericKubernetesResource snap = client.genericKubernetesResources(RealClusterTest.SNAPSHOTS)
                .inNamespace(RealClusterTest.NS).withName(volumeSnapshot).get();
        String content = String.valueOf(status(snap).get("boundVolumeSnapshotContentName"));
        return String.valueOf(status(client.genericKubernetesResources(CONTENTS).withName(content).get())
                .get("snapshotHandle"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> status(GenericKubernetesResource r) {
        Object status = r == null ? null : r.getAdditionalProperties().get("status");
        return status instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
