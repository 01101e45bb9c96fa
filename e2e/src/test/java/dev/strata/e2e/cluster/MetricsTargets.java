package dev.strata.e2e.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.util.List;

/**
 * The pods behind the two headless metrics Services of deploy/manifests/metrics.yaml, as Prometheus's
 * file-based discovery reads targets, each labelled with its component and pod. Debian builds its
 * Prometheus without Kubernetes service discovery ("field kubernetes_sd_configs not found"), so the
 * endpoints are read from the Services' EndpointSlices here, as that discovery would. The pods'
 * addresses are reachable from the host, which is the cluster's node.
 */
final class MetricsTargets {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MetricsTargets() {}

    /** Every ready endpoint, as file_sd JSON. */
    static String read(KubernetesClient client) throws IOException {
        ArrayNode groups = JSON.createArrayNode();
        for (String component : List.of("controller", "node")) {
            for (EndpointSlice slice : client.discovery().v1().endpointSlices().inNamespace("strata-system")
                    .withLabel("kubernetes.io/service-name", "strata-" + component + "-metrics").list().getItems()) {
                int port = slice.getPorts().stream().filter(p -> "metrics".equals(p.getName())).findFirst()
                        .orElseThrow().getPort();
                for (Endpoint e : slice.getEndpoints()) {
                    if (Boolean.FALSE.equals(e.getConditions().getReady())) {
                        continue;
                    }
                    ObjectNode group = groups.addObject();
                    group.putArray("targets").add(e.getAddresses().get(0) + ":" + port);
                    group.putObject("labels").put("component", component).put("pod", e.getTargetRef().getName());
                }
            }
        }
        return JSON.writeValueAsString(groups);
    }
}
