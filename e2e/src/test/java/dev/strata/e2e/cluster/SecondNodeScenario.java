package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Two nodes, as Flocker moved a container's data between hosts: {@code bin/cluster add-node} starts
 * a second kubelet with its own network and mount namespaces, containerd and Strata data directory,
 * tainted so that only pods that say so run there. Strata's DaemonSet comes up on it; a claim whose
 * first consumer runs there is provisioned there; a volume written on node 1 while a writer appends
 * is snapshotted to the strata-backup class and a claim from that snapshot, consumed on node 2, is
 * restored there from the backup, byte for byte what the snapshot cut; a snapshot with no backup is
 * refused on node 2 with the reason.
 */
final class SecondNodeScenario {
    static final String NODE_2 = "strata-cluster-2";
    static final String TAINT = "strata.test/second-node";
    private static final Path STATE = LocalCluster.DIR;

    private final TestNamespace ns;
    private final KubernetesClient client;

    SecondNodeScenario(TestNamespace ns) {
        this.ns = ns;
        this.client = ns.client();
    }

    /** bin/cluster add-node, then Strata's node plugin up on both nodes. */
    void addNode() throws Exception {
        LocalCluster.script(900, "add-node");
        TestNamespace.await("the node DaemonSet is Ready on both nodes", () -> {
            var d = client.apps().daemonSets().inNamespace(RealClusterTest.DRIVER_NAMESPACE).withName("strata-node")
                    .get();
            return d != null && d.getStatus() != null && Integer.valueOf(2).equals(d.getStatus().getNumberReady());
        });
        TestNamespace.await("CSINode " + NODE_2 + " lists " + RealClusterTest.DRIVER, () -> {
            var n = client.storage().v1().csiNodes().withName(NODE_2).get();
            return n != null && n.getSpec().getDrivers() != null && n.getSpec().getDrivers().stream()
                    .anyMatch(d -> d.getName().equals(RealClusterTest.DRIVER));
        });
    }

    /** WaitForFirstConsumer puts a new volume on node 2 when its pod runs there: its data is node 2's. */
    void aNewVolumeGoesWhereItsPodRuns() throws Exception {
        ns.pvc("on-node-2", "strata-shared", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(onNode2(TestNamespace.pod("node-2-writer", "on-node-2",
                "echo written-on-node-2 > /data/only-on-node-2 && sync")));
        assertEquals(NODE_2, selectedNode("on-node-2"));
        assertEquals(List.of(NODE_2), nodesOf("on-node-2"));
        String id = volumeOf("on-node-2").getSpec().getCsi().getVolumeHandle();
        assertTrue(holds(STATE.resolve("node2/strata"), id), "volume " + id + " is in node 2's data directory, "
                + STATE.resolve("node2/strata"));
        assertFalse(holds(STATE.resolve("strata"), id), "and not in node 1's");
    }

    /**
     * Flocker's move on one engine: a writer on node 1 appends while the remote snapshot is cut; a
     * claim from that snapshot, consumed on node 2, holds the blob whole and a prefix of the log.
     */
    void moves(String storageClass) throws Exception {
        String claim = "moving-" + storageClass;
        ns.pvc(claim, storageClass, "64Mi", "ReadWriteOnce", null);
        String writer = claim + "-writer";
        client.pods().inNamespace(TestNamespace.NS).resource(TestNamespace.pod(writer, claim,
                "dd if=/dev/urandom of=/data/blob bs=1M count=4 2>/dev/null && sync && echo ready; "
                        + "i=0; while true; do echo line $i >> /data/log; i=$((i+1)); done")).create();
        TestNamespace.await(writer + " wrote its blob and appends", () -> {
            try {
                String log = client.pods().inNamespace(TestNamespace.NS).withName(writer).getLog();
                return log != null && log.contains("ready");
            } catch (KubernetesClientException stillStarting) {
                return false; // no log before the container runs
            }
        });
        String snapshot = "moving-" + storageClass;
        ns.snapshot(snapshot, claim, "strata-backup");
        ns.deletePod(writer);

        String moved = "moved-" + storageClass;
        ns.pvc(moved, storageClass, "64Mi", "ReadWriteOnce", Map.of("VolumeSnapshot", snapshot));
        String[] there = ns.runToEnd(onNode2(TestNamespace.pod(moved + "-reader", moved,
                "sha256sum < /data/blob; wc -c < /data/log; sha256sum < /data/log"))).strip().split("\n");
        assertEquals(NODE_2, selectedNode(moved));
        assertEquals(List.of(NODE_2), nodesOf(moved), "the restored volume lives on node 2");
        long logBytes = Long.parseLong(there[1].strip());
        String[] here = ns.runToEnd(TestNamespace.pod(claim + "-checker", claim,
                "sha256sum < /data/blob; head -c " + logBytes + " /data/log | sha256sum; wc -c < /data/log"))
                .strip().split("\n");
        assertEquals(here[0], there[0], "the blob came across whole");
        assertEquals(here[1], there[2], "node 2's log is the first " + logBytes + " bytes of node 1's");
        assertTrue(logBytes > 0 && Long.parseLong(here[2].strip()) >= logBytes, "the writer had appended");
        System.out.printf("[cluster] %s: a snapshot cut on node 1 while a writer appended was restored on %s "
                + "from its backup: blob whole, log %d of %s bytes%n", storageClass, NODE_2, logBytes, here[2].strip());
    }

    /**
     * A snapshot kept only on node 1 is restored there, and cannot follow a pod to node 2: that
     * claim stays Pending and its events say why (RESOURCE_EXHAUSTED, which the provisioner retries).
     */
    void aLocalSnapshotStaysOnItsNode() throws Exception {
        ns.pvc("local-src", "strata-overlay", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(TestNamespace.pod("local-writer", "local-src", "echo here > /data/f && sync"));
        ns.snapshot("local-only", "local-src");
        ns.pvc("local-restore", "strata-overlay", "64Mi", "ReadWriteOnce", Map.of("VolumeSnapshot", "local-only"));
        assertEquals("here", ns.runToEnd(TestNamespace.pod("local-reader", "local-restore", "cat /data/f"))
                .strip());
        assertEquals(List.of(RealClusterTest.NODE_1), nodesOf("local-restore"), "restored beside its snapshot");

        ns.pvc("local-to-node-2", "strata-overlay", "64Mi", "ReadWriteOnce", Map.of("VolumeSnapshot",
                "local-only"));
        client.pods().inNamespace(TestNamespace.NS).resource(onNode2(TestNamespace.pod("local-reader-2",
                "local-to-node-2", "cat /data/f"))).create();
        TestNamespace.await("the claim's events say the snapshot has no backup", () -> ns.events(
                "PersistentVolumeClaim", "local-to-node-2").contains("has no stored backup to restore elsewhere"));
        assertEquals("Pending", client.persistentVolumeClaims().inNamespace(TestNamespace.NS)
                .withName("local-to-node-2").get().getStatus().getPhase());
        ns.deletePod("local-reader-2");
    }

    /** The pod, tolerating node 2's taint and bound to it. */
    static Pod onNode2(Pod pod) {
        return new PodBuilder(pod).editSpec().addToNodeSelector("kubernetes.io/hostname", NODE_2)
                .addNewToleration().withKey(TAINT).withOperator("Exists").withEffect("NoSchedule").endToleration()
                .endSpec().build();
    }

    private String selectedNode(String claim) {
        PersistentVolumeClaim c = client.persistentVolumeClaims().inNamespace(TestNamespace.NS).withName(claim).get();
        return c.getMetadata().getAnnotations().get("volume.kubernetes.io/selected-node");
    }

    /** The nodes the claim's PersistentVolume may be used on (its node affinity's topology values). */
    private List<String> nodesOf(String claim) {
        return volumeOf(claim).getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms().stream()
                .flatMap(t -> t.getMatchExpressions().stream())
                .filter(e -> e.getKey().equals("topology.strata.csi.dev/node"))
                .flatMap(e -> e.getValues().stream()).toList();
    }

    private PersistentVolume volumeOf(String claim) {
        String volume = client.persistentVolumeClaims().inNamespace(TestNamespace.NS).withName(claim).get()
                .getSpec().getVolumeName();
        return client.persistentVolumes().withName(volume).get();
    }

    /** Whether a file or directory of that name is within a few levels of dir (its volumes, images, records). */
    private static boolean holds(Path dir, String fileName) throws IOException {
        try (Stream<Path> files = Files.find(dir, 4, (p, a) -> p.getFileName().toString().equals(fileName))) {
            return files.findAny().isPresent();
        }
    }
}
