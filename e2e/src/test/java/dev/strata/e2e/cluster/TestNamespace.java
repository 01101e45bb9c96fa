package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.Event;
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
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * The namespace the real-cluster tests work in, and what every scenario makes there as a user
 * would: claims, pods run to their end, snapshots; what it reads back: logs, events, a command's
 * output; and the clean-up between scenarios.
 */
final class TestNamespace {
    static final String NS = "strata-e2e";
    static final String BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.37.0-1";
    static final ResourceDefinitionContext SNAPSHOTS = new ResourceDefinitionContext.Builder()
            .withGroup("snapshot.storage.k8s.io").withVersion("v1").withPlural("volumesnapshots").withNamespaced(true)
            .withKind("VolumeSnapshot").build();

    private final KubernetesClient client;

    TestNamespace(KubernetesClient client) {
        this.client = client;
    }

    KubernetesClient client() {
        return client;
    }

    /** Polls until the condition holds, for 3 minutes at most. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 180_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("not within 3 minutes: " + what);
            }
            Thread.sleep(1000);
        }
    }

    /** A pod that runs {@code script} once, with the claim at /data. */
    static Pod pod(String name, String claim, String script) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withRestartPolicy("Never").withTerminationGracePeriodSeconds(0L)
                .addNewContainer().withName("c").withImage(BUSYBOX).withImagePullPolicy("IfNotPresent")
                .withCommand("sh", "-c", script)
                .addNewVolumeMount().withName("v").withMountPath("/data").endVolumeMount().endContainer()
                .addNewVolume().withName("v").withNewPersistentVolumeClaim().withClaimName(claim)
                .endPersistentVolumeClaim().endVolume().endSpec().build();
    }

    /** A claim; dataSource maps a kind (VolumeSnapshot, PersistentVolumeClaim) to its name. */
    void pvc(String name, String storageClass, String size, String accessMode, Map<String, String> dataSource) {
        PersistentVolumeClaimBuilder b = new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withStorageClassName(storageClass).withAccessModes(accessMode)
                .withNewResources().addToRequests("storage", new Quantity(size)).endResources().endSpec();
        if (dataSource != null) {
            Map.Entry<String, String> e = dataSource.entrySet().iterator().next();
            b.editSpec().withDataSource(new TypedLocalObjectReferenceBuilder()
                    .withApiGroup(e.getKey().equals("VolumeSnapshot") ? "snapshot.storage.k8s.io" : null)
                    .withKind(e.getKey()).withName(e.getValue()).build()).endSpec();
        }
        client.persistentVolumeClaims().inNamespace(NS).resource(b.build()).create();
    }

    /** Asks for the claim to grow to {@code size}, and waits until its status says it has. */
    void growTo(String claim, String size) throws InterruptedException {
        client.persistentVolumeClaims().inNamespace(NS).withName(claim).edit(p -> {
            p.getSpec().getResources().getRequests().put("storage", new Quantity(size));
            return p;
        });
        long bytes = Quantity.getAmountInBytes(new Quantity(size)).longValue();
        await(claim + " reaches " + size, () -> {
            PersistentVolumeClaim p = client.persistentVolumeClaims().inNamespace(NS).withName(claim).get();
            return p.getStatus().getCapacity() != null
                    && Quantity.getAmountInBytes(p.getStatus().getCapacity().get("storage")).longValue() >= bytes;
        });
    }

    /** A VolumeSnapshot of the claim, of the class "strata", once it is ready to use. */
    void snapshot(String name, String claim) {
        snapshot(name, claim, "strata");
    }

    /** A VolumeSnapshot of the claim, of this VolumeSnapshotClass, once it is ready to use. */
    void snapshot(String name, String claim, String snapshotClass) {
        createSnapshot(name, claim, snapshotClass);
        awaitReadyToUse(name);
    }

    /** Asks for a VolumeSnapshot of the claim, of this VolumeSnapshotClass. */
    void createSnapshot(String name, String claim, String snapshotClass) {
        client.genericKubernetesResources(SNAPSHOTS).inNamespace(NS).resource(new GenericKubernetesResourceBuilder()
                .withApiVersion("snapshot.storage.k8s.io/v1").withKind("VolumeSnapshot")
                .withNewMetadata().withName(name).endMetadata()
                .addToAdditionalProperties("spec", Map.of("volumeSnapshotClassName", snapshotClass,
                        "source", Map.of("persistentVolumeClaimName", claim)))
                .build()).create();
    }

    /** Waits up to three minutes for the VolumeSnapshot to be ready to use; fails with its status and events. */
    void awaitReadyToUse(String name) {
        try {
            client.genericKubernetesResources(SNAPSHOTS).inNamespace(NS).withName(name)
                    .waitUntilCondition(TestNamespace::readyToUse, 3, TimeUnit.MINUTES);
        } catch (RuntimeException e) {
            GenericKubernetesResource s = client.genericKubernetesResources(SNAPSHOTS).inNamespace(NS).withName(name)
                    .get();
            throw new AssertionError("the VolumeSnapshot " + name + " is not ready to use: status "
                    + (s == null ? null : s.getAdditionalProperties().get("status"))
                    + events("VolumeSnapshot", name), e);
        }
    }

    private static boolean readyToUse(GenericKubernetesResource s) {
        return Boolean.TRUE.equals(status(s).get("readyToUse"));
    }

    /** A resource's status as a map: empty for none (or no resource). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> status(GenericKubernetesResource r) {
        Object status = r == null ? null : r.getAdditionalProperties().get("status");
        return status instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    /** Runs the pod until it ends, deletes it, and returns its output; fails unless it succeeded. */
    String runToEnd(Pod pod) {
        String name = pod.getMetadata().getName();
        client.pods().inNamespace(NS).resource(pod).create();
        Pod done;
        try {
            done = client.pods().inNamespace(NS).withName(name).waitUntilCondition(p -> p != null
                    && List.of("Succeeded", "Failed").contains(p.getStatus().getPhase()), 3, TimeUnit.MINUTES);
        } catch (RuntimeException e) {
            throw new AssertionError(name + " did not end: " + events("Pod", name) + describeClaims(), e);
        }
        String log = client.pods().inNamespace(NS).withName(name).getLog();
        assertEquals("Succeeded", done.getStatus().getPhase(), name + ": " + log + events("Pod", name));
        deletePod(name);
        return log;
    }

    void deletePod(String name) {
        client.pods().inNamespace(NS).withName(name).withGracePeriod(0).delete();
        client.pods().inNamespace(NS).withName(name).waitUntilCondition(p -> p == null, 2, TimeUnit.MINUTES);
    }

    /** Runs a command in a running pod; fails unless it exits 0; returns its standard output. */
    String exec(String pod, String... command) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (var watch = client.pods().inNamespace(NS).withName(pod).writingOutput(out).writingError(err)
                .exec(command)) {
            int code = watch.exitCode().get(1, TimeUnit.MINUTES);
            assertEquals(0, code, pod + " " + String.join(" ", command) + ": " + out + err);
        }
        return out.toString();
    }

    /** The events of one object in the namespace, a line each: type, reason, message. */
    String events(String kind, String name) {
        List<Event> events = client.v1().events().inNamespace(NS).list().getItems();
        return events.stream().filter(e -> kind.equals(e.getInvolvedObject().getKind())
                && name.equals(e.getInvolvedObject().getName()))
                .map(e -> "\n  " + e.getType() + " " + e.getReason() + ": " + e.getMessage())
                .collect(Collectors.joining());
    }

    private String describeClaims() {
        return client.persistentVolumeClaims().inNamespace(NS).list().getItems().stream()
                .map(c -> "\n  claim " + c.getMetadata().getName() + " " + c.getStatus().getPhase()
                        + events("PersistentVolumeClaim", c.getMetadata().getName()))
                .collect(Collectors.joining());
    }

    /** Pods, snapshots and claims go, and with them every volume of reclaim policy Delete. */
    void deleteEverything() throws InterruptedException {
        client.pods().inNamespace(NS).withGracePeriod(0).delete();
        client.genericKubernetesResources(SNAPSHOTS).inNamespace(NS).delete();
        client.persistentVolumeClaims().inNamespace(NS).delete();
        await("no pod in " + NS, () -> client.pods().inNamespace(NS).list().getItems().isEmpty());
        await("no claim in " + NS, () -> client.persistentVolumeClaims().inNamespace(NS).list().getItems().isEmpty());
        await("no snapshot in " + NS, () -> client.genericKubernetesResources(SNAPSHOTS).inNamespace(NS).list()
                .getItems().isEmpty());
        await("no volume of policy Delete", () -> client.persistentVolumes().list().getItems().stream()
                .noneMatch(v -> "Delete".equals(v.getSpec().getPersistentVolumeReclaimPolicy())));
    }
}
