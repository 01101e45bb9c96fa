package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MockCluster;
import dev.strata.testkit.StrataProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ClusterHarness cluster = new ClusterHarness();

    private final List<Process> processes = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private static Path prometheus() {
        Path p = Path.of("/usr/bin/prometheus");
        return Files.isExecutable(p) ? p : null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void scrapesStandaloneControllerAndNode() throws Exception {
        Path prometheus = prometheus();
        assumeTrue(prometheus != null, "Prometheus is not installed (Debian package prometheus; .ci/install-deps test)");
        Path root = cluster.root();
        int standalonePort = freePort();
        int controllerPort = freePort();
        int nodePort = freePort();
        int prometheusPort = freePort();

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

        Path config = root.resolve("prometheus.yml");
        Files.writeString(config, """
                global: {scrape_interval: 1s, evaluation_interval: 1s}
                rule_files: [%s]
                scrape_configs:
                  - job_name: strata
                    static_configs:
                      - {targets: ['127.0.0.1:%d'], labels: {component: standalone}}
                      - {targets: ['127.0.0.1:%d'], labels: {component: controller}}
                      - {targets: ['127.0.0.1:%d'], labels: {component: node}}
                """.formatted(MockCluster.repo().resolve("charts/strata/rules/strata.rules.yaml").toAbsolutePath().normalize(), standalonePort,
                controllerPort, nodePort));
        Path prometheusLog = root.resolve("prometheus.log");
        processes.add(new ProcessBuilder(prometheus.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + root.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + prometheusPort)
                .redirectErrorStream(true).redirectOutput(prometheusLog.toFile()).start());
        String api = "http://127.0.0.1:" + prometheusPort + "/api/v1/";

        // Every target up, as Prometheus saw it.
        Map<String, String> up = awaitSeries(api, "up", 3, prometheusLog);
        assertEquals(Map.of("controller", "1", "node", "1", "standalone", "1"), up);
        Map<String, String> build = awaitSeries(api, "strata_build_info", 3, prometheusLog);
        assertEquals(3, build.size());
        // The calls just made, each on the server that served it.
        assertEquals(Map.of("standalone", "1", "controller", "1"), awaitSeries(api,
                "strata_csi_request_duration_seconds_count{method=\"Controller/CreateVolume\",code=\"OK\"}", 2,
                prometheusLog));
        assertEquals(Map.of("standalone", "1", "node", "1"), awaitSeries(api,
                "strata_volumes{engine=\"dir\",state=\"READY\"}", 2, prometheusLog));
        assertEquals(Map.of("controller", "1"), awaitSeries(api,
                "sum by (component) (strata_controller_waits_total{resource=\"volume\",outcome=\"done\"})", 1,
                prometheusLog));
        Map<String, String> reconciles = awaitSeries(api,
                "sum by (component) (strata_reconcile_total{queue=\"volumes\"}) > 0", 1, prometheusLog);
        assertTrue(reconciles.containsKey("node"), reconciles.toString());
        // The alert rules load into a real Prometheus, and nothing fires on a healthy driver.
        List<String> healthy = new ArrayList<>();
        for (JsonNode group : get(api + "rules").path("data").path("groups")) {
            group.path("rules").forEach(r -> healthy.add(r.path("name").asText() + "=" + r.path("health").asText()));
        }
        assertEquals(13, healthy.size(), healthy.toString());
        assertTrue(healthy.stream().allMatch(r -> r.endsWith("=ok")), healthy.toString());
        JsonNode alerts = get(api + "alerts");
        assertEquals(0, alerts.path("data").path("alerts").size(), alerts.toString());
    }

    private JsonNode get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /**
     * Waits until the instant query gives {@code count} series, then returns their values by the
     * {@code component} label.
     */
    private Map<String, String> awaitSeries(String api, String query, int count, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = get(api + "query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
                JsonNode result = last.path("data").path("result");
                if (result.size() == count) {
                    Map<String, String> byComponent = new TreeMap<>();
                    result.forEach(s -> byComponent.put(s.path("metric").path("component").asText(),
                            s.path("value").get(1).asText()));
                    return byComponent;
                }
            } catch (java.net.ConnectException notYet) {
                // Prometheus is still starting
            }
            Thread.sleep(500);
        }
        fail("Prometheus never gave " + count + " series for " + query + ": " + last + "\n"
                + StrataProcess.read(log));
        return null;
    }
}
