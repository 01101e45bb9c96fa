package dev.strata.node.engine;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Engines whose volumes and snapshots are plain directory trees on the node's filesystem (dir,
 * shared, hostpath): what a backup off the node reads file by file, and what a restore fills.
 * Engines whose data is a device or a chain of layers back up by other means, or not yet.
 */
public interface DirectoryTrees {
    /** The snapshot's files; only the driver reaches them, and nothing writes them after the cut. */
    Path snapshotTree(String snapshotId);

    /**
     * Lets {@code fill} write a volume that is still being created (nothing else uses it) at a path
     * that stays the volume's own while it runs; a volume whose tree already holds data is refused
     * (ALREADY_EXISTS), since a restore never merges into data it did not make. Returns what
     * {@code fill} returns.
     */
    <T> T fillVolume(String volumeId, TreeFill<T> fill) throws IOException;

    /** What fills an empty volume tree (a restore from a backup), and what it says it did. */
    @FunctionalInterface
    interface TreeFill<T> {
        T into(Path emptyTree) throws IOException;
    }
}
