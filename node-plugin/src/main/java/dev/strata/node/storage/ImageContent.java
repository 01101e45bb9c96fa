package dev.strata.node.storage;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSummary;
import dev.strata.backup.BlockImage;
import dev.strata.backup.ImagePlan;
import dev.strata.backup.Manifest;
import dev.strata.common.CsiException;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.BlockImages;
import dev.strata.node.engine.ChangedBlockTracking;
import io.grpc.Status;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot backed up as its device's image, reading only what the engine says holds data: the
 * blocks changed since the parent's snapshot when that snapshot is still on the node (thin_delta),
 * else the blocks allocated (thin_dump). Either way a block already stored is not stored again.
 */
record ImageContent(BlockImages images) implements SnapshotContent {
    private static final Logger LOG = LoggerFactory.getLogger(ImageContent.class);

    @Override
    public BackupSummary backUp(BackupRepository repository, SnapshotRecord snapshot, Map<String, String> labels,
            SnapshotRecord parent, List<String> alike) throws IOException {
        ImagePlan plan = plan(snapshot, parent);
        Map<String, String> imageLabels = new HashMap<>(labels);
        imageLabels.putAll(images.imageLabels(snapshot.id()));
        return images.readSnapshot(snapshot.id(), (device, size) -> repository.backupImage(BlockImage.of(device, size),
                plan, snapshot.backup().name(), imageLabels));
    }

    private ImagePlan plan(SnapshotRecord snapshot, SnapshotRecord parent) throws IOException {
        int block = images.blockBytes(snapshot.id());
        if (parent != null) {
            try {
                return ImagePlan.changedSince(parent.backup().name(), block,
                        ranges(images.changed(parent.id(), snapshot.id())));
            } catch (CsiException e) {
                if (e.code() != Status.Code.NOT_FOUND) {
                    throw e;
                }
                LOG.info("snapshot {}: the parent backup's snapshot {} is gone from the node; reading every "
                        + "allocated block", snapshot.id(), parent.id());
            }
        }
        return ImagePlan.allocated(block, ranges(images.allocated(snapshot.id())));
    }

    private static List<ImagePlan.Range> ranges(ChangedBlockTracking.BlockMap map) {
        return map.extents().stream().map(e -> new ImagePlan.Range(e.offset(), e.length())).toList();
    }

    @Override
    public BackupSummary restore(BackupRepository repository, String name, VolumeRecord volume) throws IOException {
        Manifest manifest = repository.manifest(name); // read once: its labels are checked, then it is restored
        return images.fillVolume(volume, manifest.summary().logicalBytes(), manifest.summary().labels(),
                (device, size) -> repository.restoreImage(manifest, BlockImage.of(device, size)));
    }
}
