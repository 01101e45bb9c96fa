package dev.strata.node.main;

import dev.strata.common.Gate;
import dev.strata.common.grpc.CsiServer;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.identity.IdentityService;
import dev.strata.common.metrics.StrataMetrics;
import dev.strata.csi.v1.PluginCapability;
import dev.strata.node.NodeService;
import dev.strata.node.cluster.NodeAgent;
import dev.strata.node.metrics.StorageSamples;
import dev.strata.node.mount.Mounter;
import dev.strata.node.storage.NodeStorage;
import dev.strata.node.storage.StorageConfig;
import dev.strata.node.storage.StorageOpener;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node plugin of a cluster, wired: Identity and Node on the kubelet's socket over this node's
 * storage, and the agent that reconciles this node's custom resources into that storage. The socket
 * answers (Probe: not ready) while storage is recovered and the agent starts.
 */
public final class NodePlugin implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodePlugin.class);

    private final CsiServer server;
    private final Gate<NodeStorage> storage;
    private final NodeAgent agent;

    private NodePlugin(CsiServer server, Gate<NodeStorage> storage, NodeAgent agent) {
        this.server = server;
        this.storage = storage;
        this.agent = agent;
    }

    public static NodePlugin start(Endpoint endpoint, StorageConfig config, KubernetesClient client,
            Duration drainTimeout, Duration resync) throws Exception {
        return start(endpoint, config, client, drainTimeout, resync, null);
    }

    /** As above, measured in {@code metrics} (calls, storage, the agent's queues); null: not measured. */
    public static NodePlugin start(Endpoint endpoint, StorageConfig config, KubernetesClient client,
            Duration drainTimeout, Duration resync, StrataMetrics metrics) throws Exception {
        Gate<NodeStorage> storage = new Gate<>("storage");
        Gate<NodeAgent> agent = new Gate<>("node agent");
        Mounter mounter = new Mounter();
        CsiServer server = CsiServer.start(endpoint, List.of(
                // The capabilities of the plugin as a whole, as the controller reports them: Identity
                // describes the driver, whose Controller service runs in the controller Deployment.
                new IdentityService(List.of(
                        IdentityService.service(PluginCapability.Service.Type.CONTROLLER_SERVICE),
                        IdentityService.service(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS),
                        IdentityService.onlineExpansion()), agent::isOpen),
                new NodeService(config, storage.part(NodeStorage::volumes), volumeId -> {
                    if (agent.isOpen()) {
                        agent.get().usageChanged(volumeId);
                    }
                })), drainTimeout, metrics);
        try {
            NodeStorage opened = StorageOpener.open(config, mounter);
            storage.open(opened);
            agent.open(NodeAgent.start(client, opened.provisioner(), opened.engines(), config, resync));
            if (metrics != null) {
                metrics.add("storage", new StorageSamples(opened.provisioner(), opened.engines()))
                        .add("agent", agent.get()::samples);
            }
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        return new NodePlugin(server, storage, agent.get());
    }

    /** Stops reconciling, drains the socket, then lets the engines finish their background work. */
    @Override
    public void close() {
        try {
            agent.close();
            server.stop();
            storage.get().close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("interrupted while stopping");
        }
    }
}
