package dev.strata.e2e.cluster;

import static dev.strata.e2e.cluster.TestNamespace.NS;
import static dev.strata.e2e.cluster.TestNamespace.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.CSIStorageCapacity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where Strata cannot serve, or a volume goes wrong behind its back, users see why where they look:
 * in the claim's and the pod's events, in the capacity the scheduler reads, and in the StrataNode's
 * and StrataVolume's status and events.
 */
final class DiagnosticsScenario {
    private final TestNamespace ns;
    private final KubernetesClient client;

    DiagnosticsScenario(TestNamespace ns) {
        this.ns = ns;
        this.client = ns.client();
    }

    /**
     * The thin classes on a node without device-mapper: capacity 0, a claim that stays unserved with
     * a reason in its events (never a hang), and the StrataNode's message naming device-mapper.
     */
    void thinClassesOnANodeWithoutDeviceMapper() throws Exception {
        for (String sc : RealClusterTest.THIN) {
            TestNamespace.await("a CSIStorageCapacity for " + sc, () -> InstallScenario.capacities(client).stream()
                    .anyMatch(x -> sc.equals(x.getStorageClassName())));
            CSIStorageCapacity c = InstallScenario.capacities(client).stream()
                    .filter(x -> sc.equals(x.getStorageClassName())).findFirst().orElseThrow();
            assertEquals(0, Quantity.getAmountInBytes(c.getCapacity() == null ? new Quantity("0") : c.getCapacity())
                    .signum(), sc + ": capacity 0 on a node without device-mapper");
        }
        ns.pvc("thin", "strata-thin", "64Mi", "ReadWriteOnce", null);
        client.pods().inNamespace(NS).resource(pod("thin-user", "thin", "true")).create();
        long deadline = System.currentTimeMillis() + 120_000;
        String why = "";
        while (System.currentTimeMillis() < deadline) {
            why = ns.events("Pod", "thin-user") + ns.events("PersistentVolumeClaim", "thin");
            if (why.contains("FailedScheduling") || why.contains("ProvisioningFailed")) {
                break;
            }
            Thread.sleep(2000);
        }
        assertTrue(why.contains("storage"), "a reason in the events: " + why);
        String node = strataNodeMessage();
        assertTrue(node.contains("device-mapper"), "the StrataNode says why: " + node);
        System.out.println("[cluster] strata-thin on this host (no device-mapper): events: " + why.strip()
                + "; StrataNode: " + node);
        ns.deletePod("thin-user");
        client.persistentVolumeClaims().inNamespace(NS).withName("thin").delete();
    }

    private String strataNodeMessage() {
        GenericKubernetesResource n = client.genericKubernetesResources("strata.csi.dev/v1alpha1", "StrataNode")
                .withName(RealClusterTest.NODE_1).get();
        return String.valueOf(TestNamespace.status(n).getOrDefault("message", ""));
    }

    /**
     * A hostpath volume whose directory is removed behind the driver's back: at its next resync the
     * node posts a Warning on the claim (where kubectl describe pvc shows it) and on the
     * StrataVolume, once.
     */
    void anAbnormalVolumeIsAnEventOnItsClaim() throws Exception {
        ns.pvc("sick", "strata-hostpath", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("sick-writer", "sick", "echo x > /data/f"));
        Path dir = RealClusterTest.HOST_ROOT.resolve(NS).resolve("sick");
        assertTrue(Files.isRegularFile(dir.resolve("f")), "the hostpath volume is " + dir);
        String handle = client.persistentVolumes().withName(client.persistentVolumeClaims().inNamespace(NS)
                .withName("sick").get().getSpec().getVolumeName()).get().getSpec().getCsi().getVolumeHandle();
        Files.delete(dir.resolve("f"));
        Files.delete(dir);
        TestNamespace.await("a VolumeAbnormal event on the claim", () -> ns.events("PersistentVolumeClaim", "sick")
                .contains("VolumeAbnormal"));
        String onClaim = ns.events("PersistentVolumeClaim", "sick");
        assertTrue(onClaim.contains("Warning VolumeAbnormal: host path") && onClaim.contains("is missing"), onClaim);
        List<Event> onVolume = client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> "StrataVolume".equals(e.getInvolvedObject().getKind())
                        && handle.equals(e.getInvolvedObject().getName()))
                .toList();
        assertEquals(List.of("VolumeAbnormal"), onVolume.stream().map(Event::getReason).toList(),
                "the StrataVolume's events");
        System.out.println("[cluster] events on the claim whose host path was removed:" + onClaim);
        client.persistentVolumeClaims().inNamespace(NS).withName("sick").delete();
    }
}
