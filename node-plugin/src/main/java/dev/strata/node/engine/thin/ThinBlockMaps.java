package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.ChangedBlockTracking.BlockMap;
import dev.strata.node.engine.ChangedBlockTracking.Extent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which blocks of a thin snapshot hold data, and which differ between two snapshots, read from a
 * metadata snapshot of the pool (thin_dump, thin_delta) while the pool stays live.
 */
final class ThinBlockMaps {
    private final ThinPool pool;
    private final ThinDevices snapshots;
    private final CommandRunner runner;

    ThinBlockMaps(ThinPool pool, ThinDevices snapshots, CommandRunner runner) {
        this.pool = pool;
        this.snapshots = snapshots;
        this.runner = runner;
    }

    /** From thin_dump of the pool's metadata snapshot: the blocks the snapshot's device maps. */
    BlockMap allocated(String snapshotId) throws IOException {
        ThinDevice snap = requireSnapshot(snapshotId);
        String xml = pool.withMetadataSnapshot(meta -> runner.run("thin_dump", "-m", "--dev-id",
                Long.toString(snap.thinId()), meta).checkIo().stdout());
        return blockMap(snap, BlockRanges.mapped(xml));
    }

    /** From thin_delta of the pool's metadata snapshot: the blocks that differ between the two devices. */
    BlockMap changed(String baseSnapshotId, String targetSnapshotId) throws IOException {
        ThinDevice base = requireSnapshot(baseSnapshotId);
        ThinDevice target = requireSnapshot(targetSnapshotId);
        String xml = pool.withMetadataSnapshot(meta -> runner.run("thin_delta", "-m", "--snap1",
                Long.toString(base.thinId()), "--snap2", Long.toString(target.thinId()), meta).checkIo().stdout());
        return blockMap(target, BlockRanges.changed(xml));
    }

    private BlockMap blockMap(ThinDevice device, List<BlockRanges.Range> ranges) {
        long chunk = pool.config().chunkBytes();
        long size = device.sectors() * 512;
        List<Extent> extents = new ArrayList<>();
        for (BlockRanges.Range r : ranges) {
            long offset = r.begin() * chunk;
            if (offset < size) {
                extents.add(new Extent(offset, Math.min(r.length() * chunk, size - offset)));
            }
        }
        return new BlockMap(size, extents);
    }

    private ThinDevice requireSnapshot(String snapshotId) throws IOException {
        return snapshots.get(snapshotId).filter(ThinDevice::ready).orElseThrow(() -> CsiException.notFound(
                "snapshot " + snapshotId + " has no thin device"));
    }
}
