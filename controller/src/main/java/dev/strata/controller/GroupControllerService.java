package dev.strata.controller;

import dev.strata.common.CsiException;
import dev.strata.common.Gate;
import dev.strata.common.Validate;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.port.GroupSnapshotter;
import dev.strata.common.port.Provisioner;
import dev.strata.csi.v1.CreateVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeGroupSnapshotResponse;
import dev.strata.csi.v1.DeleteVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeGroupSnapshotResponse;
import dev.strata.csi.v1.GetVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.GetVolumeGroupSnapshotResponse;
import dev.strata.csi.v1.GroupControllerGetCapabilitiesRequest;
import dev.strata.csi.v1.GroupControllerGetCapabilitiesResponse;
import dev.strata.csi.v1.GroupControllerGrpc;
import dev.strata.csi.v1.GroupControllerServiceCapability;
import dev.strata.csi.v1.VolumeGroupSnapshot;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/** CSI GroupController: snapshots of several volumes taken together, through the {@link Provisioner}. */
public final class GroupControllerService extends GroupControllerGrpc.GroupControllerImplBase {
    private final Gate<? extends GroupSnapshotter> groups;
    private final Gate<? extends Provisioner> snapshots;

    /** Groups from {@code groups}; their member snapshots, as any snapshot, from {@code snapshots}. */
    public GroupControllerService(Gate<? extends GroupSnapshotter> groups, Gate<? extends Provisioner> snapshots) {
        this.groups = groups;
        this.snapshots = snapshots;
    }

    @Override
    public void groupControllerGetCapabilities(GroupControllerGetCapabilitiesRequest req,
            StreamObserver<GroupControllerGetCapabilitiesResponse> out) {
        out.onNext(GroupControllerGetCapabilitiesResponse.newBuilder()
                .addCapabilities(GroupControllerServiceCapability.newBuilder()
                        .setRpc(GroupControllerServiceCapability.RPC.newBuilder()
                                .setType(GroupControllerServiceCapability.RPC.Type.CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT)))
                .build());
        out.onCompleted();
    }

    @Override
    public void createVolumeGroupSnapshot(CreateVolumeGroupSnapshotRequest req,
            StreamObserver<CreateVolumeGroupSnapshotResponse> out) {
        String name = Validate.name("name", req.getName());
        if (req.getSourceVolumeIdsCount() == 0) {
            throw CsiException.invalidArgument("source_volume_ids", "required");
        }
        List<String> volumes = new ArrayList<>();
        for (int i = 0; i < req.getSourceVolumeIdsCount(); i++) {
            volumes.add(Validate.id("source_volume_ids[" + i + "]", req.getSourceVolumeIds(i)));
        }
        GroupSnapshotRecord group = groups.get().createGroupSnapshot(name, volumes, Validate.map("parameters",
                req.getParametersMap()));
        out.onNext(CreateVolumeGroupSnapshotResponse.newBuilder().setGroupSnapshot(toCsi(group)).build());
        out.onCompleted();
    }

    @Override
    public void deleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest req,
            StreamObserver<DeleteVolumeGroupSnapshotResponse> out) {
        String id = Validate.id("group_snapshot_id", req.getGroupSnapshotId());
        groups.get().deleteGroupSnapshot(id, req.getSnapshotIdsList());
        out.onNext(DeleteVolumeGroupSnapshotResponse.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void getVolumeGroupSnapshot(GetVolumeGroupSnapshotRequest req,
            StreamObserver<GetVolumeGroupSnapshotResponse> out) {
        String id = Validate.id("group_snapshot_id", req.getGroupSnapshotId());
        GroupSnapshotRecord group = groups.get().findGroupSnapshot(id).orElseThrow(() -> CsiException.notFound(
                "group snapshot " + id + " does not exist"));
        if (!group.matches(req.getSnapshotIdsList())) {
            throw CsiException.invalidArgument("snapshot_ids", "do not match the snapshots of group " + id + " "
                    + group.snapshotIds());
        }
        out.onNext(GetVolumeGroupSnapshotResponse.newBuilder().setGroupSnapshot(toCsi(group)).build());
        out.onCompleted();
    }

    private VolumeGroupSnapshot toCsi(GroupSnapshotRecord group) {
        Provisioner p = snapshots.get();
        VolumeGroupSnapshot.Builder b = VolumeGroupSnapshot.newBuilder()
                .setGroupSnapshotId(group.id())
                .setCreationTime(ControllerMessages.timestamp(group.createdAt()))
                .setReadyToUse(true);
        for (String memberId : group.snapshotIds()) {
            p.findSnapshot(memberId).ifPresent(s -> b.addSnapshots(ControllerMessages.toCsi(s)));
        }
        return b.build();
    }
}
