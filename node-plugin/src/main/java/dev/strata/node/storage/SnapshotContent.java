package dev.strata.node.storage;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSummary;
import dev.strata.common.CsiException;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.BlockImages;
import dev.strata.node.engine.DirectoryTrees;
import dev.strata.node.engine.LayeredSnapshots;
import dev.strata.node.engine.VolumeEngine;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * How an engine's snapshot goes into a backup off the node, and a new volume comes back out of one:
 * as a tree of files ({@link DirectoryTrees}: dir, shared, hostpath), as a device image
 * ({@link BlockImages}: thin) or as layers ({@link LayeredSnapshots}: overlay).
 */
sealed interface SnapshotContent permits TreeContent, ImageContent, LayerContent {
    /** The engine's way, or INVALID_ARGUMENT naming {@code field} for an engine that has none. */
    static SnapshotContent of(VolumeEngine engine, String field) {
        if (engine instanceof DirectoryTrees trees) {
            return new TreeContent(trees);
        }
        if (engine instanceof BlockImages images) {
            return new ImageContent(images);
        }
        if (engine instanceof LayeredSnapshots layered) {
            return new LayerContent(layered);
        }
        throw CsiException.invalidArgument(field, "the " + engine.traits().name() + " engine does not back up "
                + "off the node");
    }

    /**
     * Backs the snapshot up as its backup's name; {@code parent} is the volume's last snapshot stored
     * in the same target (what need not be read again), or null; {@code alike} names the backups of
     * the node's other snapshots of the same engine stored in that target, newest first, whose parts
     * a backup may reuse unread where it finds them unchanged (an overlay snapshot's layers).
     */
    BackupSummary backUp(BackupRepository repository, SnapshotRecord snapshot, Map<String, String> labels,
            SnapshotRecord parent, List<String> alike) throws IOException;

    /** Fills {@code volume}, still being created, from backup {@code name}; durable when this returns. */
    BackupSummary restore(BackupRepository repository, String name, VolumeRecord volume) throws IOException;
}
