package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MockCluster;
import dev.strata.testkit.PrometheusServer;
import dev.strata.testkit.StrataProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real Prometheus (Debian's package) scrapes a standalone driver, a controller plugin and a node
 * plugin, each its own process with --metrics-address on loopback (the plugins over the mock API
 * server), and its HTTP API shows every target up and the metrics of the calls just made.
 */
@Timeout(300)
class PrometheusScrapeTest {
    private static final String NODE = "node-a";

    @RegisterExtension
    final ClusterHarness cluster = new ClusterHarness();

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void scrapesStandaloneControllerAndNode() throws Exception {
        assumeTrue(PrometheusServer.installed(),
                "Prometheus is not installed (Debian package prometheus; .ci/install-deps test)");
        Path root = cluster.root();
        int standalonePort = freePort();
        int controllerPort = freePort();
        int nodePort = freePort();

        // The standalone driver, with a volume made through it.
        Path standaloneSocket = root.resolve("standalone.sock");
        Path standaloneLog = root.resolve("standalone.log");
        Process standalone = StrataProcess.start(null, List.of("standalone", "--endpoint", "unix://" + standaloneSocket,
                "--data-dir", root.resolve("standalone").toString(), "--metrics-address",
                "127.0.0.1:" + standalonePort), standaloneLog);
        processes.add(standalone);
        StrataProcess.awaitReady("standalone", standalone, standaloneSocket, Duration.ofSeconds(60),
                () -> StrataProcess.read(standaloneLog));
        try (CsiCalls.Connection c = new CsiCalls.Connection(standaloneSocket)) {
            ControllerGrpc.newBlockingStub(c.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .createVolume(Csi.createVolume("scraped").build());
        }

        // The plugins of a one-node cluster, with a volume made through the controller on the node.
        cluster.nodeProcess(NODE, null, List.of("--metrics-address", "127.0.0.1:" + nodePort));
        cluster.controllerProcess(List.of("--metrics-address", "127.0.0.1:" + controllerPort));
        CreateVolumeRequest onNode = ClusterTest.volumeOn("pvc-scraped", NODE).build();
        cluster.controller().createVolume(onNode);

        try (PrometheusServer prometheus = PrometheusServer.start(root.resolve("prometheus"),
                MockCluster.repo().resolve("charts/strata/rules/strata.rules.yaml"), """
                  - job_name: strata
                    static_configs:
                      - {targets: ['127.0.0.1:%d'], labels: {component: standalone}}
                      - {targets: ['127.0.0.1:%d'], labels: {component: controller}}
                      - {targets: ['127.0.0.1:%d'], labels: {component: node}}
                """.formatted(standalonePort, controllerPort, nodePort))) {
            // Every target up, as Prometheus saw it.
            assertEquals(Map.of("controller", "1", "node", "1", "standalone", "1"), byComponent(prometheus, "up", 3));
            assertEquals(3, byComponent(prometheus, "strata_build_info", 3).size());
            // The calls just made, each on the server that served it.
            assertEquals(Map.of("standalone", "1", "controller", "1"), byComponent(prometheus,
                    "strata_csi_request_duration_seconds_count{method=\"Controller/CreateVolume\",code=\"OK\"}", 2));
            assertEquals(Map.of("standalone", "1", "node", "1"), byComponent(prometheus,
                    "strata_volumes{engine=\"dir\",state=\"READY\"}", 2));
            assertEquals(Map.of("controller", "1"), byComponent(prometheus,
                    "sum by (component) (strata_controller_waits_total{resource=\"volume\",outcome=\"done\"})", 1));
            Map<String, String> reconciles = byComponent(prometheus,
                    "sum by (component) (strata_reconcile_total{queue=\"volumes\"}) > 0", 1);
            assertTrue(reconciles.containsKey("node"), reconciles.toString());
            // The alert rules load into a real Prometheus, and nothing fires on a healthy driver.
            List<String> healthy = prometheus.ruleHealth();
            assertEquals(13, healthy.size(), healthy.toString());
            assertTrue(healthy.stream().allMatch(r -> r.endsWith("=ok")), healthy.toString());
            JsonNode alerts = prometheus.get("alerts");
            assertEquals(0, alerts.path("data").path("alerts").size(), alerts.toString());
        }
    }

    private static Map<String, String> byComponent(PrometheusServer prometheus, String query, int count)
            throws Exception {
        return PrometheusServer.valuesBy("component", prometheus.awaitSeries(query, count));
    }
}
