package dev.strata.node;

import dev.strata.common.BuildInfo;
import dev.strata.common.Capabilities;
import dev.strata.common.CsiException;
import dev.strata.common.Gate;
import dev.strata.common.Validate;
import dev.strata.common.io.Unchecked;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.VolumeRecord;
import dev.strata.csi.v1.NodeExpandVolumeRequest;
import dev.strata.csi.v1.NodeExpandVolumeResponse;
import dev.strata.csi.v1.NodeGetCapabilitiesRequest;
import dev.strata.csi.v1.NodeGetCapabilitiesResponse;
import dev.strata.csi.v1.NodeGetInfoRequest;
import dev.strata.csi.v1.NodeGetInfoResponse;
import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsResponse;
import dev.strata.csi.v1.NodeGrpc;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodePublishVolumeResponse;
import dev.strata.csi.v1.NodeServiceCapability;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeResponse;
import dev.strata.csi.v1.NodeUnpublishVolumeRequest;
import dev.strata.csi.v1.NodeUnpublishVolumeResponse;
import dev.strata.csi.v1.NodeUnstageVolumeRequest;
import dev.strata.csi.v1.NodeUnstageVolumeResponse;
import dev.strata.csi.v1.Topology;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.csi.v1.VolumeCondition;
import dev.strata.csi.v1.VolumeUsage.Unit;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.storage.EphemeralVolumes;
import dev.strata.node.storage.NodeVolumes;
import dev.strata.node.storage.StorageConfig;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * CSI Node: stages a volume once per node and bind-mounts it into each pod, as kubelet asks. It
 * checks and translates requests; the engine behind the volume does the storage work. Every mount is
 * recorded before it is made, so a restarted plugin knows what it has mounted.
 */
public final class NodeService extends NodeGrpc.NodeImplBase {
    private static final List<NodeServiceCapability.RPC.Type> CAPABILITIES = List.of(
            NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
            NodeServiceCapability.RPC.Type.GET_VOLUME_STATS,
            NodeServiceCapability.RPC.Type.EXPAND_VOLUME,
            NodeServiceCapability.RPC.Type.VOLUME_CONDITION,
            NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER);

    private final StorageConfig config;
    private final Gate<NodeVolumes> volumes;
    private final Consumer<String> usageChanged;

    public NodeService(StorageConfig config, Gate<NodeVolumes> volumes) {
        this(config, volumes, volumeId -> { });
    }

    /**
     * {@code usageChanged} hears of each volume staged or unstaged here (in a cluster, the node
     * plugin then reports where the volume is in use without waiting for its next resync).
     */
    public NodeService(StorageConfig config, Gate<NodeVolumes> volumes, Consumer<String> usageChanged) {
        this.config = config;
        this.volumes = volumes;
        this.usageChanged = usageChanged;
    }

    @Override
    public void nodeStageVolume(NodeStageVolumeRequest req, StreamObserver<NodeStageVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path staging = Validate.absolutePath("staging_target_path", req.getStagingTargetPath());
        VolumeCapability cap = Capabilities.required("volume_capability", req.hasVolumeCapability(),
                req.getVolumeCapability());
        VolumeKey key = VolumeKey.fromSecrets("secrets", req.getSecretsMap());
        Unchecked.run(() -> volumes.get().stage(volumeId, staging, checkOf(cap), Capabilities.mountFlags(cap), key));
        usageChanged.accept(volumeId);
        reply(out, NodeStageVolumeResponse.getDefaultInstance());
    }

    @Override
    public void nodeUnstageVolume(NodeUnstageVolumeRequest req, StreamObserver<NodeUnstageVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path staging = Validate.absolutePath("staging_target_path", req.getStagingTargetPath());
        Unchecked.run(() -> volumes.get().unstage(volumeId, staging));
        usageChanged.accept(volumeId);
        reply(out, NodeUnstageVolumeResponse.getDefaultInstance());
    }

    @Override
    public void nodePublishVolume(NodePublishVolumeRequest req, StreamObserver<NodePublishVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path target = Validate.absolutePath("target_path", req.getTargetPath());
        if (EphemeralVolumes.requested(req.getVolumeContextMap())) {
            publishInline(req, Validate.id("volume_id", volumeId), target);
            reply(out, NodePublishVolumeResponse.getDefaultInstance());
            return;
        }
        Path staging = Validate.absolutePath("staging_target_path", req.getStagingTargetPath());
        VolumeCapability cap = Capabilities.required("volume_capability", req.hasVolumeCapability(),
                req.getVolumeCapability());
        Unchecked.run(() -> volumes.get().publish(volumeId, staging, target, req.getReadonly(), checkOf(cap),
                Capabilities.mountFlags(cap)));
        reply(out, NodePublishVolumeResponse.getDefaultInstance());
    }

    private void publishInline(NodePublishVolumeRequest req, String volumeId, Path target) {
        VolumeCapability cap = Capabilities.required("volume_capability", req.hasVolumeCapability(),
                req.getVolumeCapability());
        if (Capabilities.accessType("volume_capability", cap) != AccessType.MOUNT) {
            throw CsiException.invalidArgument("volume_capability.access_type", "inline volumes are mounts");
        }
        AccessMode mode = Capabilities.accessMode("volume_capability", cap);
        Map<String, String> attributes = Validate.map("volume_context", req.getVolumeContextMap());
        Unchecked.run(() -> volumes.get().publishInline(volumeId, target, req.getReadonly(), mode,
                Capabilities.mountFlags(cap), attributes));
    }

    @Override
    public void nodeUnpublishVolume(NodeUnpublishVolumeRequest req, StreamObserver<NodeUnpublishVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path target = Validate.absolutePath("target_path", req.getTargetPath());
        Unchecked.run(() -> volumes.get().unpublish(volumeId, target));
        reply(out, NodeUnpublishVolumeResponse.getDefaultInstance());
    }

    @Override
    public void nodeGetVolumeStats(NodeGetVolumeStatsRequest req, StreamObserver<NodeGetVolumeStatsResponse> out) {
        // not Validate.id: a static hostpath volume's ID is its host path, which NodeVolumes checks
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        String volumePath = Validate.required("volume_path", req.getVolumePath());
        NodeVolumes.Stats stats = Unchecked.get(() -> volumes.get().stats(volumeId, volumePath));
        NodeGetVolumeStatsResponse.Builder reply = NodeGetVolumeStatsResponse.newBuilder()
                .setVolumeCondition(VolumeCondition.newBuilder().setAbnormal(stats.health().abnormal())
                        .setMessage(stats.health().message()));
        stats.usage().ifPresentOrElse(usage -> {
            reply.addUsage(dev.strata.csi.v1.VolumeUsage.newBuilder().setUnit(Unit.BYTES)
                    .setTotal(usage.totalBytes()).setUsed(usage.usedBytes()).setAvailable(usage.availableBytes()));
            reply.addUsage(dev.strata.csi.v1.VolumeUsage.newBuilder().setUnit(Unit.INODES)
                    .setTotal(usage.totalInodes()).setUsed(usage.usedInodes()).setAvailable(usage.freeInodes()));
        }, () -> reply.addUsage(dev.strata.csi.v1.VolumeUsage.newBuilder().setUnit(Unit.BYTES)
                .setTotal(stats.volume().capacityBytes())));
        reply(out, reply.build());
    }

    @Override
    public void nodeExpandVolume(NodeExpandVolumeRequest req, StreamObserver<NodeExpandVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId()); // as NodeGetVolumeStats
        String volumePath = Validate.required("volume_path", req.getVolumePath());
        if (req.hasCapacityRange() && req.getCapacityRange().getLimitBytes() > 0
                && req.getCapacityRange().getRequiredBytes() > req.getCapacityRange().getLimitBytes()) {
            throw CsiException.invalidArgument("capacity_range", "required_bytes is above limit_bytes");
        }
        VolumeRecord volume = volumes.get().usedAt(volumeId, volumePath);
        // The controller grew the volume; the engines so far have nothing to do on the node.
        reply(out, NodeExpandVolumeResponse.newBuilder().setCapacityBytes(volume.capacityBytes()).build());
    }

    @Override
    public void nodeGetCapabilities(NodeGetCapabilitiesRequest req, StreamObserver<NodeGetCapabilitiesResponse> out) {
        NodeGetCapabilitiesResponse.Builder reply = NodeGetCapabilitiesResponse.newBuilder();
        for (NodeServiceCapability.RPC.Type type : CAPABILITIES) {
            reply.addCapabilities(NodeServiceCapability.newBuilder()
                    .setRpc(NodeServiceCapability.RPC.newBuilder().setType(type)));
        }
        reply(out, reply.build());
    }

    @Override
    public void nodeGetInfo(NodeGetInfoRequest req, StreamObserver<NodeGetInfoResponse> out) {
        reply(out, NodeGetInfoResponse.newBuilder()
                .setNodeId(config.nodeId())
                .setMaxVolumesPerNode(config.maxVolumesPerNode())
                .setAccessibleTopology(Topology.newBuilder().putSegments(BuildInfo.TOPOLOGY_KEY, config.nodeId()))
                .build());
    }

    /** The request's capability, checked against the volume and its engine once the volume is found. */
    private static NodeVolumes.CapabilityCheck checkOf(VolumeCapability cap) {
        return (traits, volume) -> Capabilities.checkFor("volume_capability", traits, volume, cap);
    }

    private static <T> void reply(StreamObserver<T> out, T message) {
        out.onNext(message);
        out.onCompleted();
    }
}
