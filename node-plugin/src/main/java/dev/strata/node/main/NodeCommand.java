package dev.strata.node.main;

import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.common.BuildInfo;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.launch.ServerOptions;
import dev.strata.common.launch.StopSignal;
import dev.strata.common.launch.VersionProvider;
import dev.strata.common.metrics.MetricsServer;
import dev.strata.common.metrics.StrataMetrics;
import dev.strata.node.storage.StorageConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code strata node}: the node plugin of a cluster (the DaemonSet), on the kubelet's plugin socket. */
@Command(name = "node", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Serve Identity and Node for this node, and make the volumes the API server assigns to it.")
public final class NodeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(NodeCommand.class);

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Option(names = "--kube-api", paramLabel = "URL",
            description = "API server URL (default: in-cluster config, else $KUBECONFIG)")
    String kubeApi;

    @Option(names = "--resync", defaultValue = "60",
            description = "Seconds between full reconciles and node reports (default: ${DEFAULT-VALUE})")
    int resyncSeconds;

    @Mixin
    StorageOptions storage;

    @Override
    public Integer call() throws Exception {
        Endpoint ep = server.endpoint("unix:///csi/csi.sock");
        StorageConfig config = storage.config(spec.commandLine());
        LOG.info("{} {} node plugin: node {}, data in {}", BuildInfo.DRIVER_NAME, BuildInfo.VERSION, config.nodeId(),
                config.dataDir());
        StrataMetrics metrics = server.metricsAddress() == null ? null : new StrataMetrics("node");
        try (KubernetesClient client = KubeClients.create(kubeApi, KubeClients.NODE)) {
            NodePlugin plugin = NodePlugin.start(ep, config, client, server.drainTimeout(),
                    Duration.ofSeconds(resyncSeconds), metrics);
            MetricsServer metricsServer = server.startMetrics(spec.commandLine(), metrics);
            StopSignal.await();
            LOG.info("stopping: draining calls for up to {}", server.drainTimeout());
            if (metricsServer != null) {
                metricsServer.close();
            }
            plugin.close();
        }
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new NodeCommand()).execute(args));
    }
}
