package dev.strata.node.engine;

import dev.strata.common.model.VolumeRecord;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.Map;

/**
 * Engines whose volumes are block devices (thin): what a backup off the node reads block by block,
 * only the blocks that hold data or changed since the last backup ({@link ChangedBlockTracking}),
 * and what a restore writes back onto a new volume's device. An encrypted volume's device holds
 * ciphertext, so its backup and its restore stay encrypted, under the same key.
 */
public interface BlockImages extends ChangedBlockTracking {
    /**
     * A backup's block size for this snapshot: the granularity at which the engine tracks change,
     * or a multiple of it for a large device, so that a manifest stays a bounded list of blocks.
     */
    int blockBytes(String snapshotId) throws IOException;

    /**
     * What a snapshot's image is (its filesystem, its encryption), kept as the backup's labels; a
     * restore checks them against the volume it fills.
     */
    Map<String, String> imageLabels(String snapshotId) throws IOException;

    /** Lets {@code read} read the snapshot's device while it runs. */
    <T> T readSnapshot(String snapshotId, DeviceAccess<T> read) throws IOException;

    /**
     * Lets {@code fill} write the device of a volume that is still being created and was made to be
     * filled (it reads zero and has no filesystem of its own), once the image's labels are found to
     * match the volume (INVALID_ARGUMENT otherwise); then finishes the volume for an image of
     * {@code imageBytes} (a filesystem smaller than the volume is grown).
     */
    <T> T fillVolume(VolumeRecord volume, long imageBytes, Map<String, String> imageLabels, DeviceAccess<T> fill)
            throws IOException;

    /** What reads or writes a device, given its open channel and size. */
    @FunctionalInterface
    interface DeviceAccess<T> {
        T with(FileChannel device, long sizeBytes) throws IOException;
    }
}
