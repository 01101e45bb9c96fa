package dev.strata.controller;

import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.common.BuildInfo;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.launch.ServerOptions;
import dev.strata.common.launch.StopSignal;
import dev.strata.common.launch.VersionProvider;
import dev.strata.common.metrics.MetricsServer;
import dev.strata.common.metrics.StrataMetrics;
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

/** {@code strata controller}: the controller plugin of a cluster (the Deployment, behind the sidecars). */
@Command(name = "controller", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Serve Identity and Controller for a cluster through the API server's custom resources.")
public final class ControllerCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerCommand.class);

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Option(names = "--kube-api", paramLabel = "URL",
            description = "API server URL (default: in-cluster config, else $KUBECONFIG)")
    String kubeApi;

    @Option(names = "--default-engine", defaultValue = "dir",
            description = "Engine for volumes whose parameters name none (default: ${DEFAULT-VALUE})")
    String defaultEngine;

    @Option(names = "--node-wait", defaultValue = "50",
            description = "Seconds a call waits for its node before answering ABORTED, which the sidecars retry; "
                    + "the caller's deadline may end it sooner (default: ${DEFAULT-VALUE})")
    int nodeWaitSeconds;

    @Override
    public Integer call() throws Exception {
        Endpoint ep = server.endpoint("unix:///csi/csi.sock");
        LOG.info("{} {} controller plugin", BuildInfo.DRIVER_NAME, BuildInfo.VERSION);
        StrataMetrics metrics = server.metricsAddress() == null ? null : new StrataMetrics("controller");
        try (KubernetesClient client = KubeClients.create(kubeApi, KubeClients.CONTROLLER)) {
            ControllerPlugin plugin = ControllerPlugin.start(ep, client, defaultEngine,
                    Duration.ofSeconds(nodeWaitSeconds), server.drainTimeout(), metrics);
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
        System.exit(new CommandLine(new ControllerCommand()).execute(args));
    }
}
