package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.GetVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.GroupControllerGetCapabilitiesRequest;
import dev.strata.csi.v1.GroupControllerServiceCapability;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.VolumeGroupSnapshot;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class GroupSnapshotConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    private String v1;
    private String v2;

    @BeforeEach
    void twoVolumes() {
        v1 = csi.createVolume("pvc-1").getVolumeId();
        v2 = csi.createVolume("pvc-2").getVolumeId();
    }

    @Test
    void capabilitiesOfferGroupSnapshots() {
        assertEquals(List.of(GroupControllerServiceCapability.RPC.Type.CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT),
                csi.groupController().groupControllerGetCapabilities(GroupControllerGetCapabilitiesRequest
                        .getDefaultInstance()).getCapabilitiesList().stream().map(c -> c.getRpc().getType()).toList());
    }

    @Test
    void createSnapshotsEveryVolume() throws IOException {
        Files.writeString(csi.volumeDir(v1).resolve("one.txt"), "1");
        Files.writeString(csi.volumeDir(v2).resolve("two.txt"), "2");
        VolumeGroupSnapshot group = create("group-1", v1, v2);
        assertTrue(group.getReadyToUse(), "not ready_to_use");
        assertTrue(group.hasCreationTime(), "no creation_time");
        assertEquals(Set.of(v1, v2), group.getSnapshotsList().stream().map(Snapshot::getSourceVolumeId)
                .collect(Collectors.toSet()));
        for (Snapshot s : group.getSnapshotsList()) {
            assertEquals(group.getGroupSnapshotId(), s.getGroupSnapshotId());
            assertTrue(s.getReadyToUse(), "member not ready_to_use: " + s);
            String file = s.getSourceVolumeId().equals(v1) ? "one.txt" : "two.txt";
            assertTrue(Files.exists(csi.snapshotDir(s.getSnapshotId()).resolve(file)), "member lacks " + file);
        }
    }

    @Test
    void createIsIdempotentByName() {
        VolumeGroupSnapshot first = create("group-1", v1, v2);
        assertEquals(first, create("group-1", v1, v2));
        assertEquals(2, CsiCalls.names(csi.snapshotsDir()).size());
    }

    @Test
    void sameNameForOtherVolumesAlreadyExists() {
        create("group-1", v1, v2);
        assertStatus(Code.ALREADY_EXISTS, "name", () -> create("group-1", v1));
    }

    @Test
    void getReturnsTheGroup() {
        VolumeGroupSnapshot created = create("group-1", v1, v2);
        assertEquals(created, get(created.getGroupSnapshotId()));
    }

    @Test
    void getOfAnUnknownGroupIsNotFound() {
        assertStatus(Code.NOT_FOUND, () -> get(Csi.UNKNOWN_GROUP));
    }

    @Test
    void deleteRemovesTheGroupAndItsSnapshotsAndIsIdempotent() {
        VolumeGroupSnapshot group = create("group-1", v1, v2);
        delete(group.getGroupSnapshotId());
        delete(group.getGroupSnapshotId());
        assertStatus(Code.NOT_FOUND, () -> get(group.getGroupSnapshotId()));
        assertEquals(List.of(), csi.listSnapshotIds());
        assertEquals(List.of(), CsiCalls.names(csi.snapshotsDir()));
    }

    @Test
    void aMemberCannotBeDeletedAlone() {
        VolumeGroupSnapshot group = create("group-1", v1, v2);
        String member = group.getSnapshots(0).getSnapshotId();
        assertStatus(Code.FAILED_PRECONDITION, () -> csi.deleteSnapshot(member));
        assertEquals(group, get(group.getGroupSnapshotId()));
    }

    /** snapshot_ids, the CO's consistency check, must name the group's snapshots, all of them, when given. */
    @Test
    void getChecksTheSnapshotIdsItIsGiven() {
        VolumeGroupSnapshot group = create("group-1", v1, v2);
        List<String> members = group.getSnapshotsList().stream().map(Snapshot::getSnapshotId).toList();
        assertEquals(group, get(group.getGroupSnapshotId(), List.of(members.get(1), members.get(0))));
        assertStatus(Code.INVALID_ARGUMENT, "snapshot_ids", () -> get(group.getGroupSnapshotId(),
                members.subList(0, 1)));
        assertStatus(Code.INVALID_ARGUMENT, "snapshot_ids", () -> get(group.getGroupSnapshotId(),
                List.of(members.get(0), members.get(1), Csi.UNKNOWN_SNAPSHOT)));
    }

    @Test
    void membersAreListedAsSnapshots() {
        VolumeGroupSnapshot group = create("group-1", v1, v2);
        assertEquals(group.getSnapshotsList().stream().map(Snapshot::getSnapshotId).collect(Collectors.toSet()),
                Set.copyOf(csi.listSnapshotIds()));
    }

    @Test
    void createNeedsAName() {
        assertStatus(Code.INVALID_ARGUMENT, "name", () -> create("", v1, v2));
    }

    @Test
    void createNeedsVolumes() {
        assertStatus(Code.INVALID_ARGUMENT, "source_volume_ids", () -> create("group-1"));
    }

    @Test
    void createOfAnUnknownVolumeIsNotFoundAndLeavesNothing() {
        assertStatus(Code.NOT_FOUND, () -> create("group-1", v1, Csi.UNKNOWN_VOLUME));
        assertEquals(List.of(), csi.listSnapshotIds());
        assertEquals(List.of(), CsiCalls.names(csi.snapshotsDir()));
    }

    private VolumeGroupSnapshot create(String name, String... volumeIds) {
        return csi.groupController().createVolumeGroupSnapshot(CreateVolumeGroupSnapshotRequest.newBuilder()
                .setName(name).addAllSourceVolumeIds(List.of(volumeIds)).build()).getGroupSnapshot();
    }

    private VolumeGroupSnapshot get(String id) {
        return get(id, List.of());
    }

    private VolumeGroupSnapshot get(String id, List<String> snapshotIds) {
        return csi.groupController().getVolumeGroupSnapshot(GetVolumeGroupSnapshotRequest.newBuilder()
                .setGroupSnapshotId(id).addAllSnapshotIds(snapshotIds).build()).getGroupSnapshot();
    }

    private void delete(String id) {
        csi.groupController().deleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest.newBuilder()
                .setGroupSnapshotId(id).build());
    }
}
