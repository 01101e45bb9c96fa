package dev.strata.api.v1alpha1;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/** The API server client of the controller and node plugins. */
public final class KubeClients {
    private KubeClients() {}

    /**
     * In a pod, the service account's; elsewhere $KUBECONFIG or ~/.kube/config; {@code apiServer}
     * (a URL) overrides the server, as for a test's mock server.
     */
    public static KubernetesClient create(String apiServer) {
        Config config = apiServer == null ? new ConfigBuilder().build()
                : new ConfigBuilder(Config.empty()).withMasterUrl(apiServer).withTrustCerts(true).build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
