package dev.strata.node.storage;

import dev.strata.node.engine.thin.ThinPoolConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * Settings of the node's storage: where its state lives, the node's name, the engine used when a
 * StorageClass names none, the size of a volume whose request gives no size, how many volumes may be
 * published on the node at once, the host directories hostpath volumes may use, the thin pool
 * (null: no thin engine), what inline volumes may be, the key file of backups, and where the host's
 * cgroup filesystems are (I/O limits are written there).
 */
public record StorageConfig(Path dataDir, String nodeId, String defaultEngine, long defaultVolumeBytes,
        int maxVolumesPerNode, List<Path> hostPathRoots, ThinPoolConfig thinPool, EphemeralPolicy ephemeral,
        Path backupKeyFile, Path cgroupRoot) {
    public static final long GIB = 1L << 30;
    public static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    public StorageConfig {
        hostPathRoots = List.copyOf(hostPathRoots);
    }

    /** A node whose cgroups are where the host's are. */
    public StorageConfig(Path dataDir, String nodeId, String defaultEngine, long defaultVolumeBytes,
            int maxVolumesPerNode, List<Path> hostPathRoots, ThinPoolConfig thinPool, EphemeralPolicy ephemeral,
            Path backupKeyFile) {
        this(dataDir, nodeId, defaultEngine, defaultVolumeBytes, maxVolumesPerNode, hostPathRoots, thinPool, ephemeral,
                backupKeyFile, CGROUP_ROOT);
    }

    /** A node whose backup targets are not encrypted (no key file). */
    public StorageConfig(Path dataDir, String nodeId, String defaultEngine, long defaultVolumeBytes,
            int maxVolumesPerNode, List<Path> hostPathRoots, ThinPoolConfig thinPool, EphemeralPolicy ephemeral) {
        this(dataDir, nodeId, defaultEngine, defaultVolumeBytes, maxVolumesPerNode, hostPathRoots, thinPool, ephemeral,
                null);
    }

    /** A node with the default inline volume policy. */
    public StorageConfig(Path dataDir, String nodeId, String defaultEngine, long defaultVolumeBytes,
            int maxVolumesPerNode, List<Path> hostPathRoots, ThinPoolConfig thinPool) {
        this(dataDir, nodeId, defaultEngine, defaultVolumeBytes, maxVolumesPerNode, hostPathRoots, thinPool,
                EphemeralPolicy.DEFAULT);
    }

    /** The same node, encrypting and decrypting its backups with the secret in {@code keyFile} (null: none). */
    public StorageConfig withBackupKeyFile(Path keyFile) {
        return new StorageConfig(dataDir, nodeId, defaultEngine, defaultVolumeBytes, maxVolumesPerNode, hostPathRoots,
                thinPool, ephemeral, keyFile, cgroupRoot);
    }

    /** A node without a thin pool. */
    public StorageConfig(Path dataDir, String nodeId, String defaultEngine, long defaultVolumeBytes,
            int maxVolumesPerNode, List<Path> hostPathRoots) {
        this(dataDir, nodeId, defaultEngine, defaultVolumeBytes, maxVolumesPerNode, hostPathRoots, null);
    }

    /** A node that allows no hostpath root. */
    public StorageConfig(Path dataDir, String nodeId, String defaultEngine, long defaultVolumeBytes,
            int maxVolumesPerNode) {
        this(dataDir, nodeId, defaultEngine, defaultVolumeBytes, maxVolumesPerNode, List.of());
    }
}
