package dev.strata.e2e.k3s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What users do with Strata in a cluster, on k3s: for each StorageClass a pod writes to a PVC, the pod
 * goes and a new pod reads the data; snapshot and restore; expansion; two pods sharing a strata-shared
 * volume; a strata-hostpath volume whose files appear on the node. Subclasses install Strata (the
 * manifests, or the chart). Tagged k3s: run with {@code mvn -pl e2e -am verify -P k3s}; skipped where
 * there is no Docker engine.
 */
@Tag("k3s")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class K3sScenarios {
    static final String NS = "default";
    static final String BUSYBOX = "busybox:1.36";
    private static final ResourceDefinitionContext SNAPSHOTS = new ResourceDefinitionContext.Builder()
            .withGroup("snapshot.storage.k8s.io").withVersion("v1").withPlural("volumesnapshots").withNamespaced(true)
            .withKind("VolumeSnapshot").build();

    K3sCluster cluster;

    /** Installs Strata into the cluster and waits until its node plugin is registered. */
    abstract void install(K3sCluster cluster) throws Exception;

    @BeforeAll
    void startCluster() throws Exception {
        if (!K3sCluster.dockerAvailable()) {
            return; // each test reports itself skipped, with the reason
        }
        cluster = new K3sCluster();
        install(cluster);
        client().storage().v1().csiNodes().withName(nodeName()).waitUntilCondition(n -> n != null
                && n.getSpec().getDrivers().stream().anyMatch(d -> d.getName().equals("strata.csi.dev")),
                5, TimeUnit.MINUTES);
    }

    @BeforeEach
    void needsTheCluster() {
        assumeTrue(cluster != null, "skipped: no Docker engine (the k3s suite runs k3s in a container)");
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    KubernetesClient client() {
        return cluster.client();
    }

    String nodeName() {
        return client().nodes().list().getItems().get(0).getMetadata().getName();
    }

    @ParameterizedTest
    @ValueSource(strings = {"strata-thin", "strata-thin-xfs", "strata-overlay", "strata-hostpath", "strata-shared"})
    void dataOutlivesThePod(String storageClass) throws Exception {
        skipThinWithoutDeviceMapper(storageClass);
        String claim = "data-" + storageClass;
        pvc(claim, storageClass, "1Gi", "ReadWriteOnce", "Filesystem", null);
        runToEnd(pod("writer-" + storageClass, claim, "echo kept-" + storageClass + " > /data/f && sync"));
        assertEquals("kept-" + storageClass, runToEnd(pod("reader-" + storageClass, claim, "cat /data/f")).strip());
    }

    @Test
    void aBlockVolumeKeepsItsBytes() throws Exception {
        skipThinWithoutDeviceMapper("strata-thin-block");
        pvc("raw", "strata-thin-block", "1Gi", "ReadWriteOnce", "Block", null);
        runToEnd(blockPod("raw-writer", "raw", "printf block-bytes | dd of=/dev/xvda bs=512 conv=sync,fsync"));
        assertEquals("block-bytes", runToEnd(blockPod("raw-reader", "raw", "dd if=/dev/xvda bs=11 count=1"))
                .strip().replace("\0", ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"strata-thin", "strata-overlay"})
    void snapshotAndRestore(String storageClass) throws Exception {
        skipThinWithoutDeviceMapper(storageClass);
        String source = "snap-src-" + storageClass;
        pvc(source, storageClass, "1Gi", "ReadWriteOnce", "Filesystem", null);
        runToEnd(pod("snap-writer-" + storageClass, source, "echo before > /data/f && sync"));
        String snapshot = "snap-" + storageClass;
        client().genericKubernetesResources(SNAPSHOTS).inNamespace(NS).resource(new GenericKubernetesResourceBuilder()
                .withApiVersion("snapshot.storage.k8s.io/v1").withKind("VolumeSnapshot")
                .withNewMetadata().withName(snapshot).endMetadata()
                .addToAdditionalProperties("spec", Map.of("volumeSnapshotClassName", "strata",
                        "source", Map.of("persistentVolumeClaimName", source)))
                .build()).create();
        client().genericKubernetesResources(SNAPSHOTS).inNamespace(NS).withName(snapshot)
                .waitUntilCondition(K3sScenarios::readyToUse, 5, TimeUnit.MINUTES);
        runToEnd(pod("snap-changer-" + storageClass, source, "echo after > /data/f && sync"));
        String restored = "snap-restored-" + storageClass;
        pvc(restored, storageClass, "1Gi", "ReadWriteOnce", "Filesystem", snapshot);
        assertEquals("before", runToEnd(pod("snap-reader-" + storageClass, restored, "cat /data/f")).strip());
    }

    @SuppressWarnings("unchecked")
    private static boolean readyToUse(GenericKubernetesResource s) {
        Object status = s == null ? null : s.getAdditionalProperties().get("status");
        return status instanceof Map<?, ?> m && Boolean.TRUE.equals(((Map<String, Object>) m).get("readyToUse"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"strata-thin", "strata-overlay"})
    void expansion(String storageClass) throws Exception {
        skipThinWithoutDeviceMapper(storageClass);
        String claim = "grow-" + storageClass;
        pvc(claim, storageClass, "1Gi", "ReadWriteOnce", "Filesystem", null);
        runToEnd(pod("grow-first-" + storageClass, claim, "true"));
        client().persistentVolumeClaims().inNamespace(NS).withName(claim).edit(p -> {
            p.getSpec().getResources().getRequests().put("storage", new Quantity("2Gi"));
            return p;
        });
        client().persistentVolumeClaims().inNamespace(NS).withName(claim).waitUntilCondition(p -> p.getStatus()
                .getCapacity() != null && Quantity.getAmountInBytes(p.getStatus().getCapacity().get("storage"))
                        .longValue() >= 2L << 30, 5, TimeUnit.MINUTES);
        long kib = Long.parseLong(runToEnd(pod("grow-df-" + storageClass, claim,
                "df -k /data | tail -1 | awk '{print $2}'")).strip());
        assertTrue(kib > 1_500_000, "the filesystem grew: " + kib + " KiB");
    }

    @Test
    void twoPodsShareOneVolume() throws Exception {
        pvc("together", "strata-shared", "1Gi", "ReadWriteMany", "Filesystem", null);
        for (String name : List.of("share-a", "share-b")) {
            client().pods().inNamespace(NS).resource(pod(name, "together", "sleep 3600")).create();
        }
        for (String name : List.of("share-a", "share-b")) {
            client().pods().inNamespace(NS).withName(name).waitUntilReady(5, TimeUnit.MINUTES);
        }
        exec("share-a", "sh", "-c", "echo from-a > /data/note");
        assertEquals("from-a", exec("share-b", "cat", "/data/note").strip());
        exec("share-b", "sh", "-c", "echo from-b >> /data/note");
        assertEquals("from-a\nfrom-b", exec("share-a", "cat", "/data/note").strip());
    }

    @Test
    void hostpathFilesAppearOnTheNode() throws Exception {
        pvc("on-host", "strata-hostpath", "1Gi", "ReadWriteOnce", "Filesystem", null);
        runToEnd(pod("host-writer", "on-host", "echo on-the-node > /data/visible && sync"));
        String pv = client().persistentVolumeClaims().inNamespace(NS).withName("on-host").get().getSpec()
                .getVolumeName();
        // The StorageClass's pathPattern is ${pv.name} under the node's allowed root.
        assertEquals("on-the-node", cluster.onNode("cat", "/var/lib/strata-host/" + pv + "/visible").getStdout()
                .strip());
    }

    private void skipThinWithoutDeviceMapper(String storageClass) throws Exception {
        if (storageClass.startsWith("strata-thin")) {
            assumeTrue(cluster.hasDeviceMapper(), "skipped: the Docker host's kernel has no device-mapper");
        }
    }

    void pvc(String name, String storageClass, String size, String accessMode, String volumeMode, String snapshot) {
        PersistentVolumeClaimBuilder b = new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withStorageClassName(storageClass).withAccessModes(accessMode).withVolumeMode(volumeMode)
                .withNewResources().addToRequests("storage", new Quantity(size)).endResources().endSpec();
        if (snapshot != null) {
            b.editSpec().withDataSource(new TypedLocalObjectReferenceBuilder().withApiGroup("snapshot.storage.k8s.io")
                    .withKind("VolumeSnapshot").withName(snapshot).build()).endSpec();
        }
        PersistentVolumeClaim claim = b.build();
        client().persistentVolumeClaims().inNamespace(NS).resource(claim).create();
    }

    static Pod pod(String name, String claim, String script) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("c").withImage(BUSYBOX).withCommand("sh", "-c", script)
                .addNewVolumeMount().withName("v").withMountPath("/data").endVolumeMount().endContainer()
                .addNewVolume().withName("v").withNewPersistentVolumeClaim().withClaimName(claim).endPersistentVolumeClaim()
                .endVolume().endSpec().build();
    }

    static Pod blockPod(String name, String claim, String script) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("c").withImage(BUSYBOX).withCommand("sh", "-c", script)
                .addNewVolumeDevice().withName("v").withDevicePath("/dev/xvda").endVolumeDevice().endContainer()
                .addNewVolume().withName("v").withNewPersistentVolumeClaim().withClaimName(claim).endPersistentVolumeClaim()
                .endVolume().endSpec().build();
    }

    /** Runs the pod until it ends, deletes it, and returns its output; fails unless it succeeded. */
    String runToEnd(Pod pod) {
        String name = pod.getMetadata().getName();
        client().pods().inNamespace(NS).resource(pod).create();
        Pod done = client().pods().inNamespace(NS).withName(name).waitUntilCondition(p -> p != null
                && List.of("Succeeded", "Failed").contains(p.getStatus().getPhase()), 5, TimeUnit.MINUTES);
        String log = client().pods().inNamespace(NS).withName(name).getLog();
        assertEquals("Succeeded", done.getStatus().getPhase(), name + ": " + log);
        client().pods().inNamespace(NS).withName(name).withGracePeriod(0).delete();
        client().pods().inNamespace(NS).withName(name).waitUntilCondition(p -> p == null, 2, TimeUnit.MINUTES);
        return log;
    }

    String exec(String pod, String... command) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (var watch = client().pods().inNamespace(NS).withName(pod).writingOutput(out).exec(command)) {
            int code = watch.exitCode().get(1, TimeUnit.MINUTES);
            assertEquals(0, code, pod + " " + String.join(" ", command) + ": " + out);
        }
        return out.toString();
    }
}
