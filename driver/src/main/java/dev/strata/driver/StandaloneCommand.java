package dev.strata.driver;

import dev.strata.common.BuildInfo;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.launch.ServerOptions;
import dev.strata.common.launch.StopSignal;
import dev.strata.common.launch.VersionProvider;
import dev.strata.common.metrics.MetricsServer;
import dev.strata.common.metrics.StrataMetrics;
import dev.strata.node.main.StorageOptions;
import dev.strata.node.storage.StorageConfig;
import dev.strata.node.sys.Posix;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * One process serving Identity, Controller and Node for this host, like the reference hostpath
 * driver: what {@code stratactl} talks to, and what runs without Kubernetes.
 */
@Command(name = "standalone", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Serve Identity, Controller and Node for this host on one socket.")
public final class StandaloneCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(StandaloneCommand.class);

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Mixin
    StorageOptions storage;

    @Override
    public Integer call() throws Exception {
        Endpoint ep = server.endpoint("unix:///run/strata/csi.sock");
        if (!Posix.isRoot()) {
            LOG.warn("not running as root: mounts will fail");
        }
        StorageConfig config = storage.config(spec.commandLine());
        LOG.info("{} {} standalone: node {}, data in {}", BuildInfo.DRIVER_NAME, BuildInfo.VERSION, config.nodeId(),
                config.dataDir());
        StrataMetrics metrics = server.metricsAddress() == null ? null : new StrataMetrics("standalone");
        Standalone standalone = Standalone.start(ep, config, server.drainTimeout(), metrics);
        MetricsServer metricsServer;
        try {
            metricsServer = server.startMetrics(spec.commandLine(), metrics);
        } catch (java.io.IOException | RuntimeException e) {
            standalone.close();
            throw e;
        }
        StopSignal.await();
        LOG.info("stopping: draining calls for up to {}", server.drainTimeout());
        if (metricsServer != null) {
            metricsServer.close();
        }
        standalone.close();
        return 0;
    }
}
