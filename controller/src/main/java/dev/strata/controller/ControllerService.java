package dev.strata.controller;

import static dev.strata.controller.ControllerMessages.candidateNodes;
import static dev.strata.controller.ControllerMessages.capacityRange;
import static dev.strata.controller.ControllerMessages.condition;
import static dev.strata.controller.ControllerMessages.contentSource;
import static dev.strata.controller.ControllerMessages.toCsi;

import com.google.protobuf.Int64Value;
import dev.strata.common.BuildInfo;
import dev.strata.common.Capabilities;
import dev.strata.common.CsiException;
import dev.strata.common.Gate;
import dev.strata.common.Page;
import dev.strata.common.Validate;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.Ids;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.common.port.Attacher;
import dev.strata.common.port.Provisioner;
import dev.strata.csi.v1.ControllerExpandVolumeRequest;
import dev.strata.csi.v1.ControllerExpandVolumeResponse;
import dev.strata.csi.v1.ControllerGetCapabilitiesRequest;
import dev.strata.csi.v1.ControllerGetCapabilitiesResponse;
import dev.strata.csi.v1.ControllerGetVolumeRequest;
import dev.strata.csi.v1.ControllerGetVolumeResponse;
import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.ControllerModifyVolumeRequest;
import dev.strata.csi.v1.ControllerModifyVolumeResponse;
import dev.strata.csi.v1.ControllerPublishVolumeRequest;
import dev.strata.csi.v1.ControllerPublishVolumeResponse;
import dev.strata.csi.v1.ControllerServiceCapability;
import dev.strata.csi.v1.ControllerUnpublishVolumeRequest;
import dev.strata.csi.v1.ControllerUnpublishVolumeResponse;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateSnapshotResponse;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.CreateVolumeResponse;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.DeleteSnapshotResponse;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.DeleteVolumeResponse;
import dev.strata.csi.v1.GetCapacityRequest;
import dev.strata.csi.v1.GetCapacityResponse;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.ListVolumesRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.ValidateVolumeCapabilitiesRequest;
import dev.strata.csi.v1.ValidateVolumeCapabilitiesResponse;
import dev.strata.csi.v1.VolumeCapability;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * CSI Controller: validates and translates requests; a {@link Provisioner} makes the volumes.
 * Requests that are malformed are refused here, before anything is created.
 */
public final class ControllerService extends ControllerGrpc.ControllerImplBase {
    private static final Pattern VOLUME_TOKEN = Pattern.compile(Ids.VOLUME_PREFIX + "[0-9a-f]{32}");
    private static final Pattern SNAPSHOT_TOKEN = Pattern.compile(Ids.SNAPSHOT_PREFIX + "[0-9a-f]{32}");
    private static final List<ControllerServiceCapability.RPC.Type> CAPABILITIES = List.of(
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
            ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME,
            ControllerServiceCapability.RPC.Type.PUBLISH_READONLY,
            ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
            ControllerServiceCapability.RPC.Type.LIST_VOLUMES_PUBLISHED_NODES,
            ControllerServiceCapability.RPC.Type.GET_CAPACITY,
            ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
            ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
            ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
            ControllerServiceCapability.RPC.Type.EXPAND_VOLUME,
            ControllerServiceCapability.RPC.Type.VOLUME_CONDITION,
            ControllerServiceCapability.RPC.Type.GET_VOLUME,
            ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER,
            ControllerServiceCapability.RPC.Type.MODIFY_VOLUME);

    /** ControllerPublish is for standalone hosts; in a cluster the CSIDriver says attachRequired: false. */
    private static final Set<ControllerServiceCapability.RPC.Type> ATTACH = Set.of(
            ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME,
            ControllerServiceCapability.RPC.Type.PUBLISH_READONLY);

    private final Gate<? extends Provisioner> provisioner;
    private final Gate<? extends Attacher> attacher;
    private final List<ControllerServiceCapability.RPC.Type> capabilities;
    private final SnapshotAnswers snapshotAnswers = new SnapshotAnswers();

    /** A Controller that attaches nothing (a cluster's): ControllerPublish is not advertised. */
    public ControllerService(Gate<? extends Provisioner> provisioner) {
        this(provisioner, null);
    }

    /** A Controller that also attaches (standalone's), through {@code attacher}. */
    public ControllerService(Gate<? extends Provisioner> provisioner, Gate<? extends Attacher> attacher) {
        this.provisioner = provisioner;
        this.attacher = attacher;
        this.capabilities = CAPABILITIES.stream().filter(c -> attacher != null || !ATTACH.contains(c)).toList();
    }

    @Override
    public void createVolume(CreateVolumeRequest req, StreamObserver<CreateVolumeResponse> out) {
        String name = Validate.name("name", req.getName());
        if (name.startsWith(Ids.INLINE_VOLUME_PREFIX)) {
            throw CsiException.invalidArgument("name", "names starting \"" + Ids.INLINE_VOLUME_PREFIX
                    + "\" are reserved for inline volumes");
        }
        if (req.getVolumeCapabilitiesCount() == 0) {
            throw CsiException.invalidArgument("volume_capabilities", "required");
        }
        Map<String, String> parameters = new java.util.HashMap<>(Validate.map("parameters", req.getParametersMap()));
        Map<String, String> mutable = Validate.map("mutable_parameters", req.getMutableParamsMap());
        long[] range = capacityRange(req.hasCapacityRange(), req.getCapacityRange());
        Provisioner p = provisioner.get();
        EngineTraits traits = p.engineFor(parameters);
        AccessType accessType = null;
        Set<AccessMode> modes = EnumSet.noneOf(AccessMode.class);
        for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
            String field = "volume_capabilities[" + i + "]";
            VolumeCapability cap = req.getVolumeCapabilities(i);
            AccessType type = Capabilities.accessType(field, cap);
            if (accessType != null && type != accessType) {
                throw CsiException.invalidArgument("volume_capabilities", "mixes mount and block access types");
            }
            accessType = type;
            modes.add(Capabilities.accessMode(field, cap));
            Capabilities.checkFsType(field, traits, cap);
            if (cap.hasMount() && !cap.getMount().getFsType().isEmpty()) {
                // Kept with the parameters, where the engine that makes the filesystem reads it.
                parameters.putIfAbsent(Capabilities.FS_TYPE_PARAMETER, cap.getMount().getFsType());
            }
        }
        ContentSource source = contentSource(req.hasVolumeContentSource(), req.getVolumeContentSource());
        List<String> nodes = candidateNodes(p, req.hasAccessibilityRequirements(), req.getAccessibilityRequirements());
        VolumeRecord v = p.createVolume(new VolumeSpec(name, range[0], range[1], accessType, modes, parameters,
                mutable, source, nodes, secrets(req.getSecretsMap())));
        reply(out, CreateVolumeResponse.newBuilder().setVolume(toCsi(v)).build());
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest req, StreamObserver<DeleteVolumeResponse> out) {
        provisioner.get().deleteVolume(Validate.id("volume_id", req.getVolumeId()));
        reply(out, DeleteVolumeResponse.getDefaultInstance());
    }

    @Override
    public void controllerPublishVolume(ControllerPublishVolumeRequest req,
            StreamObserver<ControllerPublishVolumeResponse> out) {
        String volumeId = Validate.id("volume_id", req.getVolumeId());
        String nodeId = Validate.required("node_id", req.getNodeId());
        VolumeCapability cap = Capabilities.required("volume_capability", req.hasVolumeCapability(),
                req.getVolumeCapability());
        Provisioner p = provisioner.get();
        VolumeRecord v = requireVolume(p, volumeId);
        AccessMode mode = Capabilities.checkFor("volume_capability", p.engineFor(v.parameters()), v, cap);
        Map<String, String> context = attacher("ControllerPublishVolume").publishVolume(volumeId, nodeId,
                req.getReadonly(), mode);
        reply(out, ControllerPublishVolumeResponse.newBuilder().putAllPublishContext(context).build());
    }

    @Override
    public void controllerUnpublishVolume(ControllerUnpublishVolumeRequest req,
            StreamObserver<ControllerUnpublishVolumeResponse> out) {
        attacher("ControllerUnpublishVolume").unpublishVolume(Validate.id("volume_id", req.getVolumeId()),
                req.getNodeId());
        reply(out, ControllerUnpublishVolumeResponse.getDefaultInstance());
    }

    /** The attacher; a plugin without one does not advertise the call, and the spec's answer is UNIMPLEMENTED. */
    private Attacher attacher(String call) {
        if (attacher == null) {
            throw new CsiException(Status.Code.UNIMPLEMENTED, call + ": this plugin's volumes need no attaching "
                    + "(PUBLISH_UNPUBLISH_VOLUME is not among its capabilities)");
        }
        return attacher.get();
    }

    @Override
    public void validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest req,
            StreamObserver<ValidateVolumeCapabilitiesResponse> out) {
        String volumeId = Validate.id("volume_id", req.getVolumeId());
        if (req.getVolumeCapabilitiesCount() == 0) {
            throw CsiException.invalidArgument("volume_capabilities", "required");
        }
        Provisioner p = provisioner.get();
        VolumeRecord v = requireVolume(p, volumeId);
        EngineTraits traits = p.engineFor(v.parameters());
        String problem = null;
        for (int i = 0; i < req.getVolumeCapabilitiesCount() && problem == null; i++) {
            problem = unsupported("volume_capabilities[" + i + "]", traits, v, req.getVolumeCapabilities(i));
        }
        ValidateVolumeCapabilitiesResponse.Builder reply = ValidateVolumeCapabilitiesResponse.newBuilder();
        if (problem == null) {
            reply.setConfirmed(ValidateVolumeCapabilitiesResponse.Confirmed.newBuilder()
                    .putAllVolumeContext(req.getVolumeContextMap())
                    .addAllVolumeCapabilities(req.getVolumeCapabilitiesList())
                    .putAllParameters(req.getParametersMap())
                    .putAllMutableParams(req.getMutableParamsMap()));
        } else {
            reply.setMessage(problem);
        }
        reply(out, reply.build());
    }

    /** Why the capability cannot be honoured for this volume, or null when it can. */
    private static String unsupported(String field, EngineTraits traits, VolumeRecord v, VolumeCapability cap) {
        try {
            Capabilities.checkFor(field, traits, v, cap);
            return null;
        } catch (CsiException e) {
            return e.getMessage();
        }
    }

    @Override
    public void listVolumes(ListVolumesRequest req, StreamObserver<ListVolumesResponse> out) {
        Provisioner p = provisioner.get();
        Page<VolumeRecord> page = Page.of(p.listVolumes(), VolumeRecord::id, req.getStartingToken(),
                req.getMaxEntries(), t -> VOLUME_TOKEN.matcher(t).matches());
        ListVolumesResponse.Builder reply = ListVolumesResponse.newBuilder().setNextToken(page.nextToken());
        for (VolumeRecord v : page.entries()) {
            reply.addEntries(ListVolumesResponse.Entry.newBuilder().setVolume(toCsi(v))
                    .setStatus(ListVolumesResponse.VolumeStatus.newBuilder()
                            .addAllPublishedNodeIds(p.publishedNodes(v.id()))
                            .setVolumeCondition(condition(p.health(v.id())))));
        }
        reply(out, reply.build());
    }

    @Override
    public void controllerGetVolume(ControllerGetVolumeRequest req, StreamObserver<ControllerGetVolumeResponse> out) {
        String volumeId = Validate.id("volume_id", req.getVolumeId());
        Provisioner p = provisioner.get();
        VolumeRecord v = requireVolume(p, volumeId);
        reply(out, ControllerGetVolumeResponse.newBuilder().setVolume(toCsi(v))
                .setStatus(ControllerGetVolumeResponse.VolumeStatus.newBuilder()
                        .addAllPublishedNodeIds(p.publishedNodes(volumeId))
                        .setVolumeCondition(condition(p.health(volumeId))))
                .build());
    }

    @Override
    public void getCapacity(GetCapacityRequest req, StreamObserver<GetCapacityResponse> out) {
        for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
            Capabilities.required("volume_capabilities[" + i + "]", true, req.getVolumeCapabilities(i));
        }
        Map<String, String> parameters = new java.util.HashMap<>(Validate.map("parameters", req.getParametersMap()));
        String node = req.hasAccessibleTopology()
                ? req.getAccessibleTopology().getSegmentsOrDefault(BuildInfo.TOPOLOGY_KEY, null) : null;
        Provisioner p = provisioner.get();
        EngineTraits traits;
        try {
            traits = p.engineFor(parameters);
        } catch (CsiException e) {
            if (e.code() != Status.Code.RESOURCE_EXHAUSTED) {
                throw e;
            }
            // An engine the nodes are set up for but cannot run (thin without device-mapper): no space,
            // which csi-provisioner publishes as a CSIStorageCapacity of 0 for the scheduler to see.
            reply(out, GetCapacityResponse.newBuilder().setAvailableCapacity(0).build());
            return;
        }
        for (VolumeCapability cap : req.getVolumeCapabilitiesList()) {
            if (!traits.accessTypes().contains(Capabilities.accessType("volume_capabilities", cap))) {
                reply(out, GetCapacityResponse.newBuilder().setAvailableCapacity(0).build());
                return;
            }
        }
        Capacity c = req.hasAccessibleTopology() && node == null ? new Capacity(0, 0, 0) : p.capacity(parameters, node);
        reply(out, GetCapacityResponse.newBuilder()
                .setAvailableCapacity(c.availableBytes())
                .setMaximumVolumeSize(Int64Value.of(c.largestNow()))
                .setMinimumVolumeSize(Int64Value.of(c.minimumVolumeBytes()))
                .build());
    }

    @Override
    public void controllerGetCapabilities(ControllerGetCapabilitiesRequest req,
            StreamObserver<ControllerGetCapabilitiesResponse> out) {
        ControllerGetCapabilitiesResponse.Builder reply = ControllerGetCapabilitiesResponse.newBuilder();
        for (ControllerServiceCapability.RPC.Type type : capabilities) {
            reply.addCapabilities(ControllerServiceCapability.newBuilder()
                    .setRpc(ControllerServiceCapability.RPC.newBuilder().setType(type)));
        }
        reply(out, reply.build());
    }

    @Override
    public void createSnapshot(CreateSnapshotRequest req, StreamObserver<CreateSnapshotResponse> out) {
        String name = Validate.name("name", req.getName());
        String source = Validate.id("source_volume_id", req.getSourceVolumeId());
        Map<String, String> parameters = new java.util.HashMap<>(Validate.map("parameters", req.getParametersMap()));
        SnapshotRecord s = provisioner.get().createSnapshot(name, source, parameters, secrets(req.getSecretsMap()));
        reply(out, CreateSnapshotResponse.newBuilder().setSnapshot(toCsi(snapshotAnswers.answer(s))).build());
    }

    @Override
    public void deleteSnapshot(DeleteSnapshotRequest req, StreamObserver<DeleteSnapshotResponse> out) {
        String snapshotId = Validate.id("snapshot_id", req.getSnapshotId());
        provisioner.get().deleteSnapshot(snapshotId, secrets(req.getSecretsMap()));
        snapshotAnswers.forget(snapshotId);
        reply(out, DeleteSnapshotResponse.getDefaultInstance());
    }

    /** A call's secrets, bounded as any map a caller sends; what they mean is the backup's to say. */
    private static Secrets secrets(Map<String, String> values) {
        return new Secrets(Validate.map("secrets", values));
    }

    @Override
    public void listSnapshots(ListSnapshotsRequest req, StreamObserver<ListSnapshotsResponse> out) {
        Provisioner p = provisioner.get();
        List<SnapshotRecord> all = p.listSnapshots().stream()
                .filter(s -> req.getSnapshotId().isEmpty() || s.id().equals(req.getSnapshotId()))
                .filter(s -> req.getSourceVolumeId().isEmpty() || s.sourceVolumeId().equals(req.getSourceVolumeId()))
                .toList();
        Page<SnapshotRecord> page = Page.of(all, SnapshotRecord::id, req.getStartingToken(), req.getMaxEntries(),
                t -> SNAPSHOT_TOKEN.matcher(t).matches());
        ListSnapshotsResponse.Builder reply = ListSnapshotsResponse.newBuilder().setNextToken(page.nextToken());
        page.entries().forEach(s -> reply.addEntries(ListSnapshotsResponse.Entry.newBuilder().setSnapshot(toCsi(s))));
        reply(out, reply.build());
    }

    @Override
    public void controllerExpandVolume(ControllerExpandVolumeRequest req,
            StreamObserver<ControllerExpandVolumeResponse> out) {
        String volumeId = Validate.id("volume_id", req.getVolumeId());
        if (!req.hasCapacityRange()) {
            throw CsiException.invalidArgument("capacity_range", "required");
        }
        long[] range = capacityRange(true, req.getCapacityRange());
        if (req.hasVolumeCapability()) {
            Capabilities.required("volume_capability", true, req.getVolumeCapability());
        }
        Provisioner p = provisioner.get();
        VolumeRecord v = p.expandVolume(volumeId, range[0], range[1]);
        reply(out, ControllerExpandVolumeResponse.newBuilder()
                .setCapacityBytes(v.capacityBytes())
                .setNodeExpansionRequired(p.engineFor(v.parameters()).nodeExpansionRequired())
                .build());
    }

    @Override
    public void controllerModifyVolume(ControllerModifyVolumeRequest req,
            StreamObserver<ControllerModifyVolumeResponse> out) {
        String volumeId = Validate.id("volume_id", req.getVolumeId());
        Map<String, String> mutable = Validate.map("mutable_parameters", req.getMutableParametersMap());
        Provisioner p = provisioner.get();
        requireVolume(p, volumeId);
        // The spec calls the map required, but proto3 cannot tell an absent map from an empty one, and
        // says only the keys given may cause changes: an empty map modifies nothing, successfully.
        if (!mutable.isEmpty()) {
            p.modifyVolume(volumeId, mutable);
        }
        reply(out, ControllerModifyVolumeResponse.getDefaultInstance());
    }

    private static VolumeRecord requireVolume(Provisioner p, String volumeId) {
        return p.findVolume(volumeId).orElseThrow(() -> CsiException.notFound("volume " + volumeId
                + " does not exist"));
    }

    private static <T> void reply(StreamObserver<T> out, T message) {
        out.onNext(message);
        out.onCompleted();
    }
}
