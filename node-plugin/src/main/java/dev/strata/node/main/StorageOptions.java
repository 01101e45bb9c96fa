package dev.strata.node.main;

import dev.strata.common.Quantities;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.engine.thin.ThinPoolConfig;
import dev.strata.node.storage.EphemeralPolicy;
import dev.strata.node.storage.StorageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options of a node's storage, shared by {@code strata standalone} and {@code strata node}. */
public final class StorageOptions {
    @Option(names = "--data-dir", defaultValue = "/var/lib/strata",
            description = "State and volume data (default: ${DEFAULT-VALUE})")
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

    @Option(names = "--thin-pool-max-size", paramLabel = "SIZE",
            description = "Let the pool on files grow its data file, online, up to SIZE when free space runs low "
                    + "(default: --thin-pool-size, no growth)")
    String thinPoolMaxSize;

    @Option(names = "--thin-poll-interval", defaultValue = "5", paramLabel = "SECONDS",
            description = "Seconds between looks at the thin pool's status (low water, growth; default: "
                    + "${DEFAULT-VALUE})")
    double thinPollSeconds;

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

    @Option(names = "--ephemeral-engine", defaultValue = "overlay", paramLabel = "ENGINE",
            description = "Engine of inline (ephemeral) volumes, which pod authors ask for; none turns them off "
                    + "(default: ${DEFAULT-VALUE}: scratch space with a hard size)")
    String ephemeralEngine;

    @Option(names = "--ephemeral-attributes", split = ",", paramLabel = "KEY",
            description = "Volume attributes a pod may give an inline volume (default: size; the engine is never one)")
    List<String> ephemeralAttributes = new ArrayList<>(List.of(EphemeralPolicy.SIZE));

    @Option(names = "--ephemeral-max-size", defaultValue = "10Gi",
            description = "Largest inline volume (default: ${DEFAULT-VALUE})")
    String ephemeralMaxSize;

    @Option(names = "--ephemeral-max-volumes", defaultValue = "32",
            description = "Inline volumes this node holds at most (default: ${DEFAULT-VALUE})")
    int ephemeralMaxVolumes;

    @Option(names = "--backup-key-file", paramLabel = "FILE",
            description = "The secret that encrypts backups off the node (remote snapshots) and opens them on "
                    + "restore; read at each use, never logged (default: none, backups are not encrypted)")
    Path backupKeyFile;

    @Option(names = "--cgroup-root", defaultValue = "/sys/fs/cgroup", paramLabel = "DIR",
            description = "Where the host's cgroup filesystems are mounted, as this process sees them; pods' "
                    + "I/O limits are written there (default: ${DEFAULT-VALUE})")
    Path cgroupRoot;

    /** The storage settings these options give; the node ID defaults to the kernel's host name. */
    public StorageConfig config(CommandLine commandLine) throws IOException {
        String node = nodeId != null ? nodeId : hostName();
        EphemeralPolicy ephemeral;
        try {
            ephemeral = new EphemeralPolicy(ephemeralEngine, Set.copyOf(ephemeralAttributes),
                    Quantities.parse(ephemeralMaxSize), ephemeralMaxVolumes);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, "--ephemeral-*: " + e.getMessage());
        }
        return new StorageConfig(dataDir.toAbsolutePath().normalize(), node, defaultEngine, defaultVolumeBytes,
                maxVolumesPerNode, hostPathRoots, thinPool(commandLine), ephemeral,
                backupKeyFile == null ? null : backupKeyFile.toAbsolutePath(), cgroupRoot.toAbsolutePath());
    }

    private ThinPoolConfig thinPool(CommandLine commandLine) {
        int chunkSectors = (int) (Quantities.parse(thinChunkSize) / 512);
        if (thinData != null || thinMetadata != null) {
            if (thinData == null || thinMetadata == null) {
                throw new CommandLine.ParameterException(commandLine, "--thin-data and --thin-metadata go together");
            }
            if (thinPoolMaxSize != null) {
                throw new CommandLine.ParameterException(commandLine, "--thin-pool-max-size is for a pool on files "
                        + "(--thin-pool-dir): Strata does not grow block devices");
            }
            return new ThinPoolConfig(thinData, thinMetadata, 0, 0, chunkSectors, thinLowWater,
                    !thinNoDiscardPassdown, thinOvercommit, 0, pollMillis(commandLine));
        }
        if (thinPoolDir == null) {
            return null;
        }
        ThinPoolConfig files = ThinPoolConfig.files(thinPoolDir.toAbsolutePath().normalize(),
                Quantities.parse(thinPoolSize), thinOvercommit);
        long max = thinPoolMaxSize == null ? files.dataBytes() : Quantities.parse(thinPoolMaxSize);
        if (max < files.dataBytes()) {
            throw new CommandLine.ParameterException(commandLine, "--thin-pool-max-size " + thinPoolMaxSize
                    + " is below --thin-pool-size " + thinPoolSize);
        }
        // The metadata file (sparse) is sized for the largest the data may grow to: it never has to grow.
        long metadataBytes = ThinPoolConfig.files(files.data().getParent(), max, thinOvercommit).metadataBytes();
        return new ThinPoolConfig(files.data(), files.metadata(), files.dataBytes(), metadataBytes,
                chunkSectors, thinLowWater, !thinNoDiscardPassdown, thinOvercommit, max, pollMillis(commandLine));
    }

    private long pollMillis(CommandLine commandLine) {
        if (!(thinPollSeconds > 0)) {
            throw new CommandLine.ParameterException(commandLine, "--thin-poll-interval must be positive");
        }
        return Math.max(1, Math.round(thinPollSeconds * 1000));
    }

    /** The kernel's host name: what InetAddress.getLocalHost would resolve, without needing DNS. */
    private static String hostName() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    }
}
