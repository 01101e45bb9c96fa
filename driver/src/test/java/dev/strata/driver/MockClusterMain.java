package dev.strata.driver;

import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.launch.StopSignal;
import dev.strata.controller.ControllerPlugin;
import dev.strata.node.main.NodePlugin;
import dev.strata.node.storage.StorageConfig;
import dev.strata.testkit.MockCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A one-node cluster on this host for tools that speak CSI (csi-sanity, stratactl bench): the mock
 * API server, the controller plugin on DIR/controller.sock and a node plugin on DIR/node.sock, until
 * SIGTERM. Run from the driver module's test class path:
 * {@code java -cp ... dev.strata.driver.MockClusterMain DIR}; docs/cluster.md shows the commands.
 */
public final class MockClusterMain {
    private MockClusterMain() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/var/tmp/strata-mock-cluster").toAbsolutePath();
        Path host = Files.createDirectories(dir.resolve("host"));
        try (MockCluster api = new MockCluster();
                NodePlugin node = NodePlugin.start(Endpoint.parse("unix://" + dir.resolve("node.sock")),
                        new StorageConfig(dir.resolve("data"), "node-1", "dir", 1L << 30, 1024, List.of(host)),
                        api.newClient(KubeClients.NODE), Duration.ofSeconds(5), Duration.ofSeconds(30));
                ControllerPlugin controller = ControllerPlugin.start(
                        Endpoint.parse("unix://" + dir.resolve("controller.sock")), api.newClient(KubeClients.CONTROLLER), "dir",
                        Duration.ofSeconds(50), Duration.ofSeconds(5))) {
            System.out.println("API server " + api.url() + "; controller " + dir.resolve("controller.sock")
                    + "; node " + dir.resolve("node.sock"));
            StopSignal.await();
        }
    }
}
