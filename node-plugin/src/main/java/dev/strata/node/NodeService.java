package dev.strata.node;

import dev.strata.common.BuildInfo;
import dev.strata.common.Capabilities;
import dev.strata.common.CsiException;
import dev.strata.common.Gate;
import dev.strata.common.LockTable;
import dev.strata.common.Validate;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeUsage;
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
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.state.NodeVolume;
import dev.strata.node.storage.LocalStorage;
import dev.strata.node.storage.LockKeys;
import dev.strata.node.storage.EphemeralVolumes;
import dev.strata.node.storage.NodeVolumes;
import dev.strata.node.storage.StorageConfig;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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
    private final Gate<LocalStorage> storage;
    private final Mounter mounter;
    private final Consumer<String> usageChanged;

    public NodeService(StorageConfig config, Gate<LocalStorage> storage, Mounter mounter) {
        this(config, storage, mounter, volumeId -> { });
    }

    /**
     * {@code usageChanged} hears of each volume staged or unstaged here (in a cluster, the node
     * plugin then reports where the volume is in use without waiting for its next resync).
     */
    public NodeService(StorageConfig config, Gate<LocalStorage> storage, Mounter mounter,
            Consumer<String> usageChanged) {
        this.config = config;
        this.storage = storage;
        this.mounter = mounter;
        this.usageChanged = usageChanged;
    }

    @Override
    public void nodeStageVolume(NodeStageVolumeRequest req, StreamObserver<NodeStageVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path staging = Validate.absolutePath("staging_target_path", req.getStagingTargetPath());
        VolumeCapability cap = Capabilities.required("volume_capability", req.hasVolumeCapability(),
                req.getVolumeCapability());
        LocalStorage s = storage.get();
        try (LockTable.Held held = lock(s, volumeId)) {
            VolumeRecord volume = resolve(s, volumeId);
            AccessMode mode = Capabilities.checkFor("volume_capability", s.engine(volume.engine()).traits(), volume,
                    cap);
            volumes(s).stage(volume, staging, mode, Capabilities.mountFlags(cap));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        usageChanged.accept(volumeId);
        reply(out, NodeStageVolumeResponse.getDefaultInstance());
    }

    @Override
    public void nodeUnstageVolume(NodeUnstageVolumeRequest req, StreamObserver<NodeUnstageVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path staging = Validate.absolutePath("staging_target_path", req.getStagingTargetPath());
        LocalStorage s = storage.get();
        try (LockTable.Held held = lock(s, volumeId)) {
            volumes(s).unstage(resolve(s, volumeId), staging);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        usageChanged.accept(volumeId);
        reply(out, NodeUnstageVolumeResponse.getDefaultInstance());
    }

    @Override
    public void nodePublishVolume(NodePublishVolumeRequest req, StreamObserver<NodePublishVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path target = Validate.absolutePath("target_path", req.getTargetPath());
        if (EphemeralVolumes.requested(req.getVolumeContextMap())) {
            publishEphemeral(req, Validate.id("volume_id", volumeId), target);
            reply(out, NodePublishVolumeResponse.getDefaultInstance());
            return;
        }
        Path staging = Validate.absolutePath("staging_target_path", req.getStagingTargetPath());
        VolumeCapability cap = Capabilities.required("volume_capability", req.hasVolumeCapability(),
                req.getVolumeCapability());
        LocalStorage s = storage.get();
        try (LockTable.Held held = lock(s, volumeId)) {
            VolumeRecord volume = resolve(s, volumeId);
            AccessMode mode = Capabilities.checkFor("volume_capability", s.engine(volume.engine()).traits(), volume,
                    cap);
            volumes(s).publish(volume, staging, target, req.getReadonly() || mode.readOnly(), mode,
                    Capabilities.mountFlags(cap));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        reply(out, NodePublishVolumeResponse.getDefaultInstance());
    }

    private void publishEphemeral(NodePublishVolumeRequest req, String volumeId, Path target) {
        VolumeCapability cap = Capabilities.required("volume_capability", req.hasVolumeCapability(),
                req.getVolumeCapability());
        if (Capabilities.accessType("volume_capability", cap) != AccessType.MOUNT) {
            throw CsiException.invalidArgument("volume_capability.access_type", "inline volumes are mounts");
        }
        AccessMode mode = Capabilities.accessMode("volume_capability", cap);
        LocalStorage s = storage.get();
        try {
            ephemeral(s).publish(volumeId, target, req.getReadonly() || mode.readOnly(), mode,
                    Capabilities.mountFlags(cap), Validate.map("volume_context", req.getVolumeContextMap()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void nodeUnpublishVolume(NodeUnpublishVolumeRequest req, StreamObserver<NodeUnpublishVolumeResponse> out) {
        String volumeId = Validate.required("volume_id", req.getVolumeId());
        Path target = Validate.absolutePath("target_path", req.getTargetPath());
        LocalStorage s = storage.get();
        try {
            VolumeRecord volume = resolve(s, volumeId);
            if (EphemeralVolumes.isEphemeral(volume)) {
                ephemeral(s).unpublish(volume, target); // takes the lock itself, then deletes the volume
            } else {
                try (LockTable.Held held = lock(s, volumeId)) {
                    volumes(s).unpublish(resolve(s, volumeId), target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        reply(out, NodeUnpublishVolumeResponse.getDefaultInstance());
    }

    @Override
    public void nodeGetVolumeStats(NodeGetVolumeStatsRequest req, StreamObserver<NodeGetVolumeStatsResponse> out) {
        String volumeId = Validate.id("volume_id", req.getVolumeId());
        String volumePath = Validate.required("volume_path", req.getVolumePath());
        LocalStorage s = storage.get();
        VolumeRecord volume = resolve(s, volumeId);
        Path path = requireUsedAt(s, volume.id(), volumePath);
        VolumeEngine engine = s.engine(volume.engine());
        VolumeHealth health = engine.health(volume);
        if (!health.abnormal() && !MountTable.read().isMountPoint(path)) {
            health = VolumeHealth.abnormal("volume is no longer mounted at " + path);
        }
        NodeGetVolumeStatsResponse.Builder reply = NodeGetVolumeStatsResponse.newBuilder()
                .setVolumeCondition(VolumeCondition.newBuilder().setAbnormal(health.abnormal())
                        .setMessage(health.message()));
        if (volume.accessType() == AccessType.MOUNT) {
            try {
                VolumeUsage usage = engine.usage(volume, path);
                reply.addUsage(dev.strata.csi.v1.VolumeUsage.newBuilder().setUnit(Unit.BYTES)
                        .setTotal(usage.totalBytes()).setUsed(usage.usedBytes()).setAvailable(usage.availableBytes()));
                reply.addUsage(dev.strata.csi.v1.VolumeUsage.newBuilder().setUnit(Unit.INODES)
                        .setTotal(usage.totalInodes()).setUsed(usage.usedInodes()).setAvailable(usage.freeInodes()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            // A raw block device: its size is all there is to say (no filesystem counts use).
            reply.addUsage(dev.strata.csi.v1.VolumeUsage.newBuilder().setUnit(Unit.BYTES)
                    .setTotal(volume.capacityBytes()));
        }
        reply(out, reply.build());
    }

    @Override
    public void nodeExpandVolume(NodeExpandVolumeRequest req, StreamObserver<NodeExpandVolumeResponse> out) {
        String volumeId = Validate.id("volume_id", req.getVolumeId());
        String volumePath = Validate.required("volume_path", req.getVolumePath());
        if (req.hasCapacityRange() && req.getCapacityRange().getLimitBytes() > 0
                && req.getCapacityRange().getRequiredBytes() > req.getCapacityRange().getLimitBytes()) {
            throw CsiException.invalidArgument("capacity_range", "required_bytes is above limit_bytes");
        }
        LocalStorage s = storage.get();
        VolumeRecord volume = resolve(s, volumeId);
        requireUsedAt(s, volume.id(), volumePath);
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

    /**
     * The path must be where this volume is staged or published, and still exist. It is matched
     * against the records before the filesystem is touched, so no other path is ever looked at.
     */
    private static Path requireUsedAt(LocalStorage s, String volumeId, String volumePath) {
        NodeVolume current = s.nodeState().get(volumeId);
        if (!volumePath.equals(current.stagingPath()) && current.publication(volumePath).isEmpty()) {
            throw CsiException.notFound("volume_path: volume " + volumeId + " is not staged or published at "
                    + Validate.printable(volumePath));
        }
        Path path = Path.of(volumePath);
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw CsiException.notFound("volume_path: " + path + " does not exist");
        }
        return path;
    }

    private NodeVolumes volumes(LocalStorage s) {
        return workers(s).volumes();
    }

    private EphemeralVolumes ephemeral(LocalStorage s) {
        return workers(s).ephemeral();
    }

    /** The node's volume work over the storage, made once it is open (it counts inline volumes in flight). */
    private record Workers(LocalStorage storage, NodeVolumes volumes, EphemeralVolumes ephemeral) {}

    private volatile Workers workers;

    private Workers workers(LocalStorage s) {
        Workers w = workers;
        if (w == null || w.storage() != s) {
            synchronized (this) {
                w = workers;
                if (w == null || w.storage() != s) {
                    NodeVolumes volumes = new NodeVolumes(s, mounter);
                    w = new Workers(s, volumes, new EphemeralVolumes(s, volumes));
                    workers = w;
                }
            }
        }
        return w;
    }

    /**
     * The volume a node call names: one of Strata's IDs, kubelet's ID of an inline volume, or the
     * host path of a static hostpath volume. Anything else is refused before it reaches storage.
     */
    private VolumeRecord resolve(LocalStorage s, String volumeId) {
        Optional<VolumeRecord> byHandle = s.staticVolume(volumeId);
        if (byHandle.isPresent()) {
            return byHandle.get();
        }
        Validate.id("volume_id", volumeId);
        return s.findVolume(volumeId).or(() -> ephemeral(s).find(volumeId))
                .orElseThrow(() -> CsiException.notFound("volume " + volumeId + " does not exist"));
    }

    /** The lock of the volume a node call names (looked up, so that all its names share one lock). */
    private static LockTable.Held lock(LocalStorage s, String volumeId) {
        return s.locks().acquire(LockKeys.volume(s.volumeIdOf(volumeId)));
    }

    private static <T> void reply(StreamObserver<T> out, T message) {
        out.onNext(message);
        out.onCompleted();
    }
}
