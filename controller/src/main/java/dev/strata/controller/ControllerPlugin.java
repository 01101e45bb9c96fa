package dev.strata.controller;

import dev.strata.common.Gate;
import dev.strata.common.grpc.CsiServer;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.identity.IdentityService;
import dev.strata.common.metrics.StrataMetrics;
import dev.strata.controller.cluster.ClusterProvisioner;
import dev.strata.csi.v1.PluginCapability;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;

/**
 * The controller plugin of a cluster, wired: Identity and Controller on the sidecars' socket, over
 * the cluster provisioner. The socket answers (Probe: not ready) until the informers have synced.
 */
public final class ControllerPlugin implements AutoCloseable {
    private final CsiServer server;
    private final ClusterProvisioner provisioner;

    private ControllerPlugin(CsiServer server, ClusterProvisioner provisioner) {
        this.server = server;
        this.provisioner = provisioner;
    }

    public static ControllerPlugin start(Endpoint endpoint, KubernetesClient client, String defaultEngine,
            Duration longestWait, Duration drainTimeout) throws Exception {
        return start(endpoint, client, defaultEngine, longestWait, drainTimeout, null);
    }

    /** As above, measured in {@code metrics} (its calls, and its waits for nodes); null: not measured. */
    public static ControllerPlugin start(Endpoint endpoint, KubernetesClient client, String defaultEngine,
            Duration longestWait, Duration drainTimeout, StrataMetrics metrics) throws Exception {
        Gate<ClusterProvisioner> provisioner = new Gate<>("the cluster provisioner");
        CsiServer server = CsiServer.start(endpoint, List.of(
                new IdentityService(List.of(
                        IdentityService.service(PluginCapability.Service.Type.CONTROLLER_SERVICE),
                        IdentityService.service(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS),
                        IdentityService.onlineExpansion()), provisioner::isOpen),
                new ControllerService(provisioner)), drainTimeout, metrics);
        try {
            provisioner.open(ClusterProvisioner.start(client, defaultEngine, longestWait));
            if (metrics != null) {
                metrics.add("controller", provisioner.get()::samples);
            }
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        return new ControllerPlugin(server, provisioner.get());
    }

    /** Drains in-flight calls (their resources stay: a retry finds them), then stops the informers. */
    @Override
    public void close() {
        server.stop();
        provisioner.close();
    }
}
