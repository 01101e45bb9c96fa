package dev.strata.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The metrics part of the deployment: the Services both plugins are scraped through, the Prometheus
 * Operator's objects (ServiceMonitor, PrometheusRule) of deploy/manifests/monitoring and the chart,
 * the alert rules file and the Grafana dashboard.
 */
class MonitoringTest {
    private static final int PORT = 9820;

    /** The chart's documents for these values, as JSON trees by "Kind/name" (any kind, CRDs left out). */
    private static Map<String, JsonNode> render(Map<String, Object> values) {
        var template = new Helm(Manifests.CHART).template().withName("strata").withNamespace("strata-system")
                .withKubeVersion("1.32.0");
        values.forEach(template::set);
        Map<String, JsonNode> docs = new TreeMap<>();
        for (JsonNode doc : Manifests.readAllDocuments(template.call())) {
            if (doc != null && !doc.isNull() && !doc.isEmpty()
                    && !doc.path("kind").asText().equals("CustomResourceDefinition")) {
                docs.put(doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText(), doc);
            }
        }
        return docs;
    }

    private static Map<String, JsonNode> monitoringManifests() {
        Map<String, JsonNode> docs = new TreeMap<>();
        JsonNode kustomization = Manifests.read(Manifests.MANIFESTS.resolve("monitoring/kustomization.yaml")).get(0);
        for (JsonNode resource : kustomization.path("resources")) {
            for (JsonNode doc : Manifests.read(Manifests.MANIFESTS.resolve("monitoring").resolve(resource.asText()))) {
                docs.put(doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText(), doc);
            }
        }
        return docs;
    }

    @Test
    void theMonitoringManifestsAreTheChartsOperatorObjects() {
        Map<String, JsonNode> chart = render(Map.of("metrics.serviceMonitor.enabled", "true",
                "metrics.prometheusRule.enabled", "true"));
        Map<String, JsonNode> manifests = monitoringManifests();
        assertEquals(Set.of("PrometheusRule/strata", "ServiceMonitor/strata"), manifests.keySet());
        manifests.forEach((key, doc) -> assertEquals(doc, chart.get(key), key));
        Map<String, JsonNode> byDefault = render(Map.of());
        assertFalse(byDefault.containsKey("ServiceMonitor/strata"), "off by default: it needs the operator's CRDs");
        assertFalse(byDefault.containsKey("PrometheusRule/strata"));
    }

    @Test
    void thePrometheusRuleCarriesTheRulesFileUnchanged() {
        JsonNode rules = Manifests.read(Manifests.CHART.resolve("rules/strata.rules.yaml")).get(0);
        JsonNode rendered = render(Map.of("metrics.prometheusRule.enabled", "true")).get("PrometheusRule/strata");
        assertEquals(rules, rendered.path("spec"));
        assertTrue(rules.path("groups").size() >= 3);
    }

    @Test
    void bothPluginsServeMetricsBehindAHeadlessServiceEach() {
        List<HasMetadata> objects = Manifests.kustomized();
        Map<String, PodTemplateSpec> pods = new TreeMap<>();
        for (HasMetadata o : objects) {
            if (o instanceof Deployment d) {
                pods.put(d.getMetadata().getName(), d.getSpec().getTemplate());
            } else if (o instanceof DaemonSet d) {
                pods.put(d.getMetadata().getName(), d.getSpec().getTemplate());
            }
        }
        for (String plugin : List.of("strata-controller", "strata-node")) {
            Service service = objects.stream().filter(Service.class::isInstance).map(Service.class::cast)
                    .filter(s -> s.getMetadata().getName().equals(plugin + "-metrics")).findFirst().orElseThrow();
            assertEquals("None", service.getSpec().getClusterIP(), "each pod scraped on its own");
            PodTemplateSpec pod = pods.get(plugin);
            assertTrue(pod.getMetadata().getLabels().entrySet().containsAll(service.getSpec().getSelector().entrySet()),
                    plugin + ": the Service selects its pods");
            var port = service.getSpec().getPorts().get(0);
            assertEquals(PORT, port.getPort());
            assertEquals("metrics", port.getTargetPort().getStrVal());
            Container strata = pod.getSpec().getContainers().get(0);
            assertTrue(strata.getPorts().stream().anyMatch(p -> p.getName().equals("metrics")
                    && p.getContainerPort() == PORT), plugin + " names the port");
            assertTrue(strata.getArgs().contains("--metrics-address=:" + PORT), plugin + ": " + strata.getArgs());
        }
    }

    @Test
    void metricsOffLeavesNoServiceNorFlag() {
        Map<String, JsonNode> off = render(Map.of("metrics.enabled", "false"));
        assertFalse(off.containsKey("Service/strata-node-metrics"));
        assertFalse(off.containsKey("Service/strata-controller-metrics"));
        assertFalse(off.toString().contains("--metrics-address"));
        assertFalse(off.toString().contains("\"metrics\""), "no port named metrics");
        Map<String, JsonNode> moved = render(Map.of("metrics.port", "9999"));
        assertTrue(moved.get("DaemonSet/strata-node").toString().contains("--metrics-address=:9999"));
        assertEquals(9999, moved.get("Service/strata-node-metrics").path("spec").path("ports").get(0).path("port")
                .asInt());
    }

    @Test
    void theDashboardIsJsonOfStratasMetricsAndShipsWhenAsked() throws IOException {
        String json = Files.readString(Manifests.CHART.resolve("dashboards/strata.json"));
        JsonNode dashboard = new ObjectMapper().readTree(json);
        assertTrue(dashboard.path("panels").size() >= 6, "panels");
        JsonNode configMap = render(Map.of("metrics.dashboard.enabled", "true")).get("ConfigMap/strata-dashboard");
        assertEquals(dashboard, new ObjectMapper().readTree(configMap.path("data").path("strata.json").asText()));
        assertEquals("1", configMap.path("metadata").path("labels").path("grafana_dashboard").asText());
        assertFalse(render(Map.of()).containsKey("ConfigMap/strata-dashboard"));
    }

    /** Every Strata metric the rules and the dashboard use is one docs/metrics.md describes. */
    @Test
    void rulesAndDashboardUseOnlyDocumentedMetrics() throws IOException {
        String documented = Files.readString(Manifests.REPO.resolve("docs/metrics.md"));
        Set<String> used = new TreeSet<>();
        for (String file : List.of("rules/strata.rules.yaml", "dashboards/strata.json")) {
            Matcher m = Pattern.compile("strata_[a-z_]+").matcher(Files.readString(Manifests.CHART.resolve(file)));
            while (m.find()) {
                used.add(m.group().replaceAll("_(bucket|count|sum)$", ""));
            }
        }
        assertTrue(used.size() > 10, used.toString());
        for (String metric : used) {
            assertTrue(documented.contains("`" + metric), metric + " is used but not in docs/metrics.md");
        }
    }
}
