package dev.strata.testkit;

import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.NodeUnpublishVolumeRequest;
import dev.strata.csi.v1.NodeUnstageVolumeRequest;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.strata.csi.v1.VolumeContentSource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Builders for the requests the tests send most, filled in the way a CO fills them. */
public final class Csi {
    public static final String NODE_ID = "test-node";
    public static final String TOPOLOGY_KEY = "topology.strata.csi.dev/node";
    /** A volume ID of the right shape that names no volume. */
    public static final String UNKNOWN_VOLUME = "vol-00000000000000000000000000000000";
    public static final String UNKNOWN_SNAPSHOT = "snap-00000000000000000000000000000000";
    public static final String UNKNOWN_GROUP = "group-00000000000000000000000000000000";

    private Csi() {}

    /** A file name for a volume handle (a static hostpath handle is a path). */
    public static String safe(String volumeId) {
        return volumeId.replace('/', '_');
    }

    public static VolumeCapability mount(Mode mode, String... mountFlags) {
        return VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.newBuilder().addAllMountFlags(List.of(mountFlags)))
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode))
                .build();
    }

    public static VolumeCapability mount() {
        return mount(Mode.SINGLE_NODE_WRITER);
    }

    public static VolumeCapability block() {
        return VolumeCapability.newBuilder()
                .setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(Mode.SINGLE_NODE_WRITER))
                .build();
    }

    public static CreateVolumeRequest.Builder createVolume(String name) {
        return CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(mount());
    }

    public static VolumeContentSource fromVolume(String volumeId) {
        return VolumeContentSource.newBuilder()
                .setVolume(VolumeContentSource.VolumeSource.newBuilder().setVolumeId(volumeId)).build();
    }

    public static VolumeContentSource fromSnapshot(String snapshotId) {
        return VolumeContentSource.newBuilder()
                .setSnapshot(VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshotId)).build();
    }

    public static CreateSnapshotRequest snapshot(String name, String volumeId) {
        return CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(volumeId).build();
    }

    public static NodeStageVolumeRequest stage(String volumeId, Path staging) {
        return NodeStageVolumeRequest.newBuilder().setVolumeId(volumeId).setStagingTargetPath(staging.toString())
                .setVolumeCapability(mount()).build();
    }

    public static NodeUnstageVolumeRequest unstage(String volumeId, Path staging) {
        return NodeUnstageVolumeRequest.newBuilder().setVolumeId(volumeId).setStagingTargetPath(staging.toString())
                .build();
    }

    public static NodePublishVolumeRequest.Builder publish(String volumeId, Path staging, Path target) {
        return NodePublishVolumeRequest.newBuilder().setVolumeId(volumeId)
                .setStagingTargetPath(staging.toString()).setTargetPath(target.toString())
                .setVolumeCapability(mount());
    }

    public static NodeUnpublishVolumeRequest unpublish(String volumeId, Path target) {
        return NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId).setTargetPath(target.toString()).build();
    }

    /**
     * What a CO does with ABORTED, an operation still pending under that name: the same call again,
     * for up to 30 s. Any other answer, and ABORTED after that, is the caller's.
     */
    public static <T> T retryingAborted(Supplier<T> call) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return call.get();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.ABORTED || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
