package dev.strata.driver;

import dev.strata.common.BuildInfo;
import dev.strata.common.grpc.Endpoint;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.storage.StorageConfig;
import dev.strata.node.sys.Posix;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * One process serving Identity, Controller and Node for this host, like the reference hostpath
 * driver: what {@code stratactl} talks to, and what runs without Kubernetes.
 */
@Command(name = "standalone", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Serve Identity, Controller and Node for this host on one socket.")
public final class StandaloneCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(StandaloneCommand.class);

    @Option(names = "--endpoint", description = "CSI endpoint, unix:///path/csi.sock (default: $CSI_ENDPOINT, "
            + "else unix:///run/strata/csi.sock)")
    String endpoint;

    @Option(names = "--data-dir", defaultValue = "/var/lib/strata", description = "State and volume data (default: ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--node-id", description = "Node ID reported to the CO (default: host name)")
    String nodeId;

    @Option(names = "--default-engine", defaultValue = DirEngine.NAME,
            description = "Engine for volumes whose parameters name none (default: ${DEFAULT-VALUE})")
    String defaultEngine;

    @Option(names = "--default-volume-size", defaultValue = "1073741824",
            description = "Size in bytes of a volume whose request gives none (default: ${DEFAULT-VALUE})")
    long defaultVolumeBytes;

    @Option(names = "--max-volumes-per-node", defaultValue = "1024",
            description = "Volumes that may be published on this node at once (default: ${DEFAULT-VALUE})")
    int maxVolumesPerNode;

    @Option(names = "--drain-timeout", defaultValue = "30",
            description = "Seconds to let in-flight calls finish on SIGTERM (default: ${DEFAULT-VALUE})")
    int drainSeconds;

    @Option(names = "--hostpath-root", paramLabel = "DIR",
            description = "A host directory hostpath volumes may use (repeat for several; default: none)")
    List<Path> hostPathRoots = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Endpoint ep = Endpoint.parse(endpoint != null ? endpoint
                : System.getenv().getOrDefault(Endpoint.ENV, "unix:///run/strata/csi.sock"));
        String node = nodeId != null ? nodeId : InetAddress.getLocalHost().getHostName();
        if (!Posix.isRoot()) {
            LOG.warn("not running as root: mounts will fail");
        }
        StorageConfig config = new StorageConfig(dataDir.toAbsolutePath().normalize(), node, defaultEngine,
                defaultVolumeBytes, maxVolumesPerNode, hostPathRoots);
        LOG.info("{} {} standalone: node {}, data in {}", BuildInfo.DRIVER_NAME, BuildInfo.VERSION, node,
                config.dataDir());
        Standalone standalone = Standalone.start(ep, config, Duration.ofSeconds(drainSeconds));
        // SIGTERM and SIGINT drain and close here, and the process exits 0. (A shutdown hook would
        // close as well, but the JVM then exits with 128 + the signal's number whatever the hook does.)
        CountDownLatch stopRequested = new CountDownLatch(1);
        for (String signal : List.of("TERM", "INT")) {
            Signal.handle(new Signal(signal), s -> stopRequested.countDown());
        }
        stopRequested.await();
        LOG.info("stopping: draining calls for up to {} s", drainSeconds);
        standalone.close();
        return 0;
    }
}
