package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.testkit.PrometheusServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A real Prometheus (Debian's) scrapes every pod behind the metrics Services (MetricsTargets): one
 * node plugin and two controller replicas are up, the calls the tests before made are counted, and
 * the chart's alert rules load and evaluate.
 */
final class PrometheusScenario {
    private final KubernetesClient client;

    PrometheusScenario(KubernetesClient client) {
        this.client = client;
    }

    void run() throws Exception {
        Path dir = LocalCluster.LOG_DIR.resolve("prometheus");
        String targets = MetricsTargets.read(client);
        Files.createDirectories(dir);
        Path targetsFile = Files.writeString(dir.resolve("targets.json"), targets);
        try (PrometheusServer prometheus = PrometheusServer.start(dir,
                LocalCluster.REPO.resolve("charts/strata/rules/strata.rules.yaml"), """
                  - job_name: strata
                    file_sd_configs: [{files: [%s]}]
                """.formatted(targetsFile))) {
            Map<String, Long> up = new TreeMap<>();
            for (var s : prometheus.awaitSeries("up == 1", 3)) {
                up.merge(s.path("metric").path("component").asText(), 1L, Long::sum);
            }
            assertEquals(Map.of("controller", 2L, "node", 1L), up, "pods up, by component, of " + targets);
            assertEquals(3, prometheus.awaitSeries("strata_build_info", 3).size());
            var published = prometheus.awaitSeries("strata_csi_request_duration_seconds_count{component=\"node\","
                    + "method=\"Node/NodePublishVolume\",code=\"OK\"} > 0", 1);
            var created = prometheus.awaitSeries("sum(strata_csi_request_duration_seconds_count{component="
                    + "\"controller\",method=\"Controller/CreateVolume\",code=\"OK\"}) > 0", 1);
            List<String> rules = prometheus.ruleHealth();
            assertEquals(13, rules.size(), rules.toString());
            assertTrue(rules.stream().allMatch(r -> r.endsWith("=ok")), rules.toString());
            System.out.println("[cluster] Prometheus " + up + "; NodePublishVolume OK on the node: "
                    + published.get(0).path("value").get(1).asText() + "; CreateVolume OK on the controllers: "
                    + created.get(0).path("value").get(1).asText());
        }
    }
}
