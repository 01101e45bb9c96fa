package dev.strata.driver;

import dev.strata.common.BuildInfo;
import dev.strata.common.grpc.Endpoint;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.storage.StorageConfig;
import dev.strata.node.sys.Posix;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import dev.strata.common.Quantities;
import dev.strata.node.engine.thin.ThinPoolConfig;
import picocli.CommandLine;
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

    @Option(names = "--thin-pool-dir", paramLabel = "DIR",
            description = "Make (or adopt) the thin pool on two sparse files in DIR, data and metadata; enables "
                    + "the thin engine")
    Path thinPoolDir;

    @Option(names = "--thin-pool-size", defaultValue = "10Gi",
            description = "Size of the thin pool's data file (default: ${DEFAULT-VALUE})")
    String thinPoolSize;

    @Option(names = "--thin-data", paramLabel = "DEVICE",
            description = "Block device for the thin pool's data (with --thin-metadata; enables the thin engine)")
    Path thinData;

    @Option(names = "--thin-metadata", paramLabel = "DEVICE", description = "Block device for the thin pool's metadata")
    Path thinMetadata;

    @Option(names = "--thin-chunk-size", defaultValue = "64Ki",
            description = "Thin pool chunk size, a multiple of 64Ki (default: ${DEFAULT-VALUE})")
    String thinChunkSize;

    @Option(names = "--thin-overcommit", defaultValue = "1.0",
            description = "How many times the pool's size the volumes may add up to (default: ${DEFAULT-VALUE})")
    double thinOvercommit;

    @Option(names = "--thin-low-water", defaultValue = "1024",
            description = "Free chunks below which the pool raises its low-water event (default: ${DEFAULT-VALUE})")
    long thinLowWater;

    @Option(names = "--thin-no-discard-passdown",
            description = "Keep discards in the pool instead of passing them to the data device")
    boolean thinNoDiscardPassdown;

    private ThinPoolConfig thinPool() {
        int chunkSectors = (int) (Quantities.parse(thinChunkSize) / 512);
        if (thinData != null || thinMetadata != null) {
            if (thinData == null || thinMetadata == null) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "--thin-data and --thin-metadata go together");
            }
            return new ThinPoolConfig(thinData, thinMetadata, 0, 0, chunkSectors, thinLowWater,
                    !thinNoDiscardPassdown, thinOvercommit);
        }
        if (thinPoolDir == null) {
            return null;
        }
        ThinPoolConfig files = ThinPoolConfig.files(thinPoolDir.toAbsolutePath().normalize(),
                Quantities.parse(thinPoolSize), thinOvercommit);
        return new ThinPoolConfig(files.data(), files.metadata(), files.dataBytes(), files.metadataBytes(),
                chunkSectors, thinLowWater, !thinNoDiscardPassdown, thinOvercommit);
    }

    /** The kernel's host name: what InetAddress.getLocalHost would resolve, without needing DNS. */
    private static String hostName() throws java.io.IOException {
        return java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    }

    @Override
    public Integer call() throws Exception {
        Endpoint ep = Endpoint.parse(endpoint != null ? endpoint
                : System.getenv().getOrDefault(Endpoint.ENV, "unix:///run/strata/csi.sock"));
        String node = nodeId != null ? nodeId : hostName();
        if (!Posix.isRoot()) {
            LOG.warn("not running as root: mounts will fail");
        }
        StorageConfig config = new StorageConfig(dataDir.toAbsolutePath().normalize(), node, defaultEngine,
                defaultVolumeBytes, maxVolumesPerNode, hostPathRoots, thinPool());
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
