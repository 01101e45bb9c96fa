package dev.strata.api.v1alpha1;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/** The API server client of the controller and node plugins. */
public final class KubeClients {
    public static final String CONTROLLER = "strata-controller";
    public static final String NODE = "strata-node";

    private KubeClients() {}

    /**
     * In a pod, the service account's; elsewhere $KUBECONFIG or ~/.kube/config; {@code apiServer}
     * (a URL) overrides the server, as for a test's mock server. The user agent names the component
     * ({@code strata-controller}, {@code strata-node}) in the API server's audit log.
     */
    public static KubernetesClient create(String apiServer, String component) {
        ConfigBuilder config = apiServer == null ? new ConfigBuilder()
                : new ConfigBuilder(Config.empty()).withMasterUrl(apiServer).withTrustCerts(true);
        return new KubernetesClientBuilder().withConfig(config.withUserAgent(component + "/"
                + dev.strata.common.BuildInfo.VERSION).build()).build();
    }
}
