package dev.strata.node.engine;

import java.nio.file.Path;

/**
 * Engines whose volumes and snapshots are plain directory trees on the node's filesystem (dir and
 * shared): what a backup off the node reads file by file, and what a restore fills. Engines whose
 * data is a device or a chain of layers back up by other means, or not yet.
 */
public interface DirectoryTrees {
    /** The snapshot's files; only the driver reaches them, and nothing writes them after the cut. */
    Path snapshotTree(String snapshotId);

    /** The volume's files, for a restore into a volume that is still being created (nothing else uses it). */
    Path volumeTree(String volumeId);
}
