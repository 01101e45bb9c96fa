package dev.strata.node.engine;

import java.io.IOException;
import java.util.List;

/**
 * An engine that can tell which blocks of a snapshot hold data, and which changed between two
 * snapshots of one volume, so that a backup copies only those (the CSI SnapshotMetadata service).
 */
public interface ChangedBlockTracking {
    /** A run of bytes of the volume. */
    record Extent(long offset, long length) {}

    /** What a snapshot's blocks are: the volume's size and the extents. */
    record BlockMap(long volumeBytes, List<Extent> extents) {}

    /** The extents of the snapshot that hold data. */
    BlockMap allocated(String snapshotId) throws IOException;

    /** The extents whose content differs from {@code baseSnapshotId} to {@code targetSnapshotId}. */
    BlockMap changed(String baseSnapshotId, String targetSnapshotId) throws IOException;
}
