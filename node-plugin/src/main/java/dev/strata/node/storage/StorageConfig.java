package dev.strata.node.storage;

import java.nio.file.Path;

/**
 * Settings of the node's storage: where its state lives, the node's name, the engine used when a
 * StorageClass names none, the size of a volume whose request gives no size, and how many volumes
 * may be published on the node at once.
 */
public record StorageConfig(Path dataDir, String nodeId, String defaultEngine, long defaultVolumeBytes,
        int maxVolumesPerNode) {
    public static final long GIB = 1L << 30;
}
