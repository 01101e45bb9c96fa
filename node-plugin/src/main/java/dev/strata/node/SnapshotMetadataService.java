package dev.strata.node;

import dev.strata.common.CsiException;
import dev.strata.common.Gate;
import dev.strata.common.Validate;
import dev.strata.common.io.Unchecked;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.csi.v1.BlockMetadata;
import dev.strata.csi.v1.BlockMetadataType;
import dev.strata.csi.v1.GetMetadataAllocatedRequest;
import dev.strata.csi.v1.GetMetadataAllocatedResponse;
import dev.strata.csi.v1.GetMetadataDeltaRequest;
import dev.strata.csi.v1.GetMetadataDeltaResponse;
import dev.strata.csi.v1.SnapshotMetadataGrpc;
import dev.strata.node.engine.ChangedBlockTracking;
import dev.strata.node.engine.ChangedBlockTracking.BlockMap;
import dev.strata.node.engine.ChangedBlockTracking.Extent;
import dev.strata.node.storage.Engines;
import dev.strata.node.storage.LocalStorage;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * The CSI SnapshotMetadata service: which blocks of a snapshot hold data, and which changed between
 * two snapshots of a volume, so that a backup tool copies only those. Validates and translates; the
 * engine (thin: from the pool's metadata) does the work. Extents are streamed in messages of at most
 * {@code max_results} (1,024 when unset), from {@code starting_offset} on.
 */
public final class SnapshotMetadataService extends SnapshotMetadataGrpc.SnapshotMetadataImplBase {
    private static final int DEFAULT_MAX_RESULTS = 1024;
    private final Gate<LocalStorage> storage;
    private final Gate<Engines> engines;

    public SnapshotMetadataService(Gate<LocalStorage> storage, Gate<Engines> engines) {
        this.storage = storage;
        this.engines = engines;
    }

    @Override
    public void getMetadataAllocated(GetMetadataAllocatedRequest req, StreamObserver<GetMetadataAllocatedResponse> out) {
        String snapshotId = Validate.id("snapshot_id", req.getSnapshotId());
        long start = offset("starting_offset", req.getStartingOffset());
        int max = maxResults(req.getMaxResults());
        BlockMap map = Unchecked.get(() -> tracking("snapshot_id", snapshotId).allocated(snapshotId));
        for (List<BlockMetadata> page : pages(map, start, max)) {
            out.onNext(GetMetadataAllocatedResponse.newBuilder().setBlockMetadataType(BlockMetadataType.VARIABLE_LENGTH)
                    .setVolumeCapacityBytes(map.volumeBytes()).addAllBlockMetadata(page).build());
        }
        out.onCompleted();
    }

    @Override
    public void getMetadataDelta(GetMetadataDeltaRequest req, StreamObserver<GetMetadataDeltaResponse> out) {
        String base = Validate.id("base_snapshot_id", req.getBaseSnapshotId());
        String target = Validate.id("target_snapshot_id", req.getTargetSnapshotId());
        long start = offset("starting_offset", req.getStartingOffset());
        int max = maxResults(req.getMaxResults());
        SnapshotRecord baseRecord = snapshot("base_snapshot_id", base);
        SnapshotRecord targetRecord = snapshot("target_snapshot_id", target);
        if (!baseRecord.sourceVolumeId().equals(targetRecord.sourceVolumeId())) {
            throw CsiException.invalidArgument("base_snapshot_id", "snapshot " + base + " is of volume "
                    + baseRecord.sourceVolumeId() + ", not of " + targetRecord.sourceVolumeId() + " as the target");
        }
        BlockMap map = Unchecked.get(() -> tracking("target_snapshot_id", target).changed(base, target));
        for (List<BlockMetadata> page : pages(map, start, max)) {
            out.onNext(GetMetadataDeltaResponse.newBuilder().setBlockMetadataType(BlockMetadataType.VARIABLE_LENGTH)
                    .setVolumeCapacityBytes(map.volumeBytes()).addAllBlockMetadata(page).build());
        }
        out.onCompleted();
    }

    private SnapshotRecord snapshot(String field, String id) {
        return storage.get().findSnapshot(id).orElseThrow(() -> CsiException.notFound(field + ": snapshot " + id
                + " does not exist"));
    }

    private ChangedBlockTracking tracking(String field, String snapshotId) {
        SnapshotRecord s = snapshot(field, snapshotId);
        if (!(engines.get().get(s.engine()) instanceof ChangedBlockTracking tracking)) {
            throw CsiException.failedPrecondition(field + ": snapshot " + snapshotId + " is of the " + s.engine()
                    + " engine, which does not track changed blocks (the thin engine does)");
        }
        return tracking;
    }


    private static long offset(String field, long offset) {
        if (offset < 0) {
            throw CsiException.outOfRange(field, "must not be negative: " + offset);
        }
        return offset;
    }

    private static int maxResults(int max) {
        if (max < 0) {
            throw CsiException.invalidArgument("max_results", "must not be negative: " + max);
        }
        return max == 0 ? DEFAULT_MAX_RESULTS : max;
    }

    /** The extents at or after {@code start} (the first one cut there), in pages of {@code max}. */
    private static List<List<BlockMetadata>> pages(BlockMap map, long start, int max) {
        if (start >= map.volumeBytes() && map.volumeBytes() > 0) {
            throw CsiException.outOfRange("starting_offset", start + " is past the volume's end, "
                    + map.volumeBytes());
        }
        List<List<BlockMetadata>> pages = new ArrayList<>();
        List<BlockMetadata> page = new ArrayList<>();
        for (Extent e : map.extents()) {
            long end = e.offset() + e.length();
            if (end <= start) {
                continue;
            }
            long from = Math.max(e.offset(), start);
            page.add(BlockMetadata.newBuilder().setByteOffset(from).setSizeBytes(end - from).build());
            if (page.size() == max) {
                pages.add(page);
                page = new ArrayList<>();
            }
        }
        if (!page.isEmpty() || pages.isEmpty()) {
            pages.add(page);
        }
        return pages;
    }
}
