package dev.strata.node.engine;

import dev.strata.common.model.VolumeRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Engines whose snapshots are chains of read-only layers (overlay): what a backup off the node
 * reads layer by layer, and what a restore rebuilds, one local layer per layer of the backup,
 * shared by every volume restored from backups that name it. A layer's whiteouts and opaque
 * directories are the engine's to read and make.
 */
public interface LayeredSnapshots {
    /**
     * One read-only layer of a snapshot.
     *
     * @param key names the layer on this node for as long as it lasts (a layer never changes)
     * @param dir its directory
     */
    record SnapshotLayer(String key, Path dir) {}

    /** Lets {@code read} read the snapshot's layers, topmost first, which stay on the node while it runs. */
    <T> T readLayers(String snapshotId, LayersRead<T> read) throws IOException;

    /** Whether a directory of a layer hides what the layers below hold at its path. */
    boolean isOpaque(Path directory) throws IOException;

    /** Makes the whiteout {@code name} in {@code directory}, a directory of a layer being restored. */
    void makeWhiteout(Path directory, String name) throws IOException;

    /** Marks {@code directory}, of a layer being restored, opaque. */
    void makeOpaque(Path directory) throws IOException;

    /**
     * Sets a volume that is still being created, and was never written, over the layers
     * {@code layerIds}, topmost first: a layer the node already has under its ID is shared, one it
     * has not is made by {@code fill} into an empty directory, made durable and kept under that ID.
     * A volume that holds data already is refused (ALREADY_EXISTS); an ID that is not a layer
     * backup's is DATA_LOSS (the backup that names it is damaged or forged).
     */
    void fillVolume(VolumeRecord volume, List<String> layerIds, LayerFill fill) throws IOException;

    @FunctionalInterface
    interface LayersRead<T> {
        T with(List<SnapshotLayer> layers) throws IOException;
    }

    /** What fills one empty layer directory (a restore of that layer's backup). */
    @FunctionalInterface
    interface LayerFill {
        void into(String layerId, Path emptyDirectory) throws IOException;
    }
}
