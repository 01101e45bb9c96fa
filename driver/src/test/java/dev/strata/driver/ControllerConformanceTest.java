package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.ControllerExpandVolumeRequest;
import dev.strata.csi.v1.ControllerExpandVolumeResponse;
import dev.strata.csi.v1.ControllerGetCapabilitiesRequest;
import dev.strata.csi.v1.ControllerGetVolumeRequest;
import dev.strata.csi.v1.ControllerGetVolumeResponse;
import dev.strata.csi.v1.ControllerModifyVolumeRequest;
import dev.strata.csi.v1.ControllerServiceCapability.RPC.Type;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.GetCapacityRequest;
import dev.strata.csi.v1.Topology;
import dev.strata.csi.v1.ValidateVolumeCapabilitiesRequest;
import dev.strata.csi.v1.ValidateVolumeCapabilitiesResponse;
import dev.strata.csi.v1.Volume;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DeleteVolume, ValidateVolumeCapabilities, GetCapacity, ControllerGetVolume, Expand and Modify. */
class ControllerConformanceTest {
    private static final long GIB = CsiHarness.DEFAULT_VOLUME_BYTES;

    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void capabilitiesOfferWhatTheTestsUse() {
        Set<Type> types = csi.controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest
                .getDefaultInstance()).getCapabilitiesList().stream().map(c -> c.getRpc().getType())
                .collect(Collectors.toSet());
        assertTrue(types.containsAll(Set.of(Type.CREATE_DELETE_VOLUME, Type.PUBLISH_UNPUBLISH_VOLUME,
                Type.LIST_VOLUMES, Type.LIST_VOLUMES_PUBLISHED_NODES, Type.GET_CAPACITY, Type.CREATE_DELETE_SNAPSHOT,
                Type.LIST_SNAPSHOTS, Type.CLONE_VOLUME, Type.EXPAND_VOLUME, Type.GET_VOLUME, Type.MODIFY_VOLUME,
                Type.VOLUME_CONDITION)), "capabilities: " + types);
    }

    // ---- DeleteVolume -------------------------------------------------------------------------------

    @Test
    void deleteIsIdempotent() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        csi.deleteVolume(id);
        csi.deleteVolume(id);
        assertEquals(List.of(), csi.listVolumeIds());
        assertFalse(Files.exists(csi.volumeDir(id)), "volume directory is still there");
    }

    @Test
    void deleteOfAnUnknownVolumeSucceeds() {
        String kept = csi.createVolume("pvc-1").getVolumeId();
        assertDoesNotThrow(() -> csi.deleteVolume(Csi.UNKNOWN_VOLUME));
        assertEquals(List.of(kept), csi.listVolumeIds());
    }

    @Test
    void deleteNeedsAVolumeId() {
        assertStatus(Code.INVALID_ARGUMENT, "volume_id", () -> csi.controller().deleteVolume(
                DeleteVolumeRequest.getDefaultInstance()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"../etc", "a/b", "..", "/etc/passwd", "vol-1\nx"})
    void deleteOfAMalformedIdIsRefusedAndDeletesNothing(String id) {
        String volumeId = csi.createVolume("pvc-1").getVolumeId();
        List<String> before = CsiCalls.names(csi.dataDir());
        assertStatus(Code.INVALID_ARGUMENT, "volume_id", () -> csi.deleteVolume(id));
        assertEquals(before, CsiCalls.names(csi.dataDir()));
        assertEquals(List.of(volumeId), CsiCalls.names(csi.volumesDir()));
        assertEquals(List.of(volumeId + ".json"), CsiCalls.names(csi.recordsDir("volumes")));
    }

    @Test
    void deleteOfAStagedVolumeFailsItsPrecondition() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
        String id = csi.createVolume("pvc-1").getVolumeId();
        csi.stage(id);
        assertStatus(Code.FAILED_PRECONDITION, () -> csi.deleteVolume(id));
        assertTrue(Files.isDirectory(csi.volumeDir(id)), "the staged volume's directory was removed");
        csi.unstage(id);
        csi.deleteVolume(id);
        assertEquals(List.of(), csi.listVolumeIds());
    }

    // ---- ValidateVolumeCapabilities ---------------------------------------------------------------

    @Test
    void validateConfirmsASupportedCapability() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        ValidateVolumeCapabilitiesResponse r = csi.controller().validateVolumeCapabilities(validate(id)
                .addVolumeCapabilities(Csi.mount()).build());
        assertTrue(r.hasConfirmed(), "not confirmed: " + r.getMessage());
        assertEquals(List.of(Csi.mount()), r.getConfirmed().getVolumeCapabilitiesList());
    }

    @Test
    void validateExplainsAnUnsupportedCapability() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        ValidateVolumeCapabilitiesResponse r = csi.controller().validateVolumeCapabilities(validate(id)
                .addVolumeCapabilities(Csi.block()).build());
        assertFalse(r.hasConfirmed(), "block access was confirmed for a dir volume");
        assertFalse(r.getMessage().isBlank(), "no message says why it is not confirmed");
    }

    @Test
    void validateOfAnUnknownVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, () -> csi.controller().validateVolumeCapabilities(validate(Csi.UNKNOWN_VOLUME)
                .addVolumeCapabilities(Csi.mount()).build()));
    }

    @Test
    void validateNeedsCapabilities() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        assertStatus(Code.INVALID_ARGUMENT, "volume_capabilities", () -> csi.controller().validateVolumeCapabilities(
                validate(id).build()));
    }

    private static ValidateVolumeCapabilitiesRequest.Builder validate(String volumeId) {
        return ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(volumeId);
    }

    // ---- GetCapacity ----------------------------------------------------------------------------------

    @Test
    void capacityIsAvailableOnThisNode() {
        long available = csi.controller().getCapacity(GetCapacityRequest.newBuilder()
                .addVolumeCapabilities(Csi.mount())
                .setAccessibleTopology(Topology.newBuilder().putSegments(Csi.TOPOLOGY_KEY, Csi.NODE_ID))
                .build()).getAvailableCapacity();
        assertTrue(available > 0, "available capacity " + available);
    }

    @Test
    void capacityOnAnotherNodeIsZero() {
        long available = csi.controller().getCapacity(GetCapacityRequest.newBuilder()
                .setAccessibleTopology(Topology.newBuilder().putSegments(Csi.TOPOLOGY_KEY, "other-node"))
                .build()).getAvailableCapacity();
        assertEquals(0, available);
    }

    // ---- ControllerGetVolume --------------------------------------------------------------------------

    @Test
    void getVolumeReturnsTheVolumeAndItsCondition() {
        Volume created = csi.createVolume("pvc-1");
        ControllerGetVolumeResponse r = csi.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(created.getVolumeId()).build());
        assertEquals(created, r.getVolume());
        assertFalse(r.getStatus().getVolumeCondition().getAbnormal(), r.getStatus().getVolumeCondition().getMessage());
        assertEquals(List.of(), r.getStatus().getPublishedNodeIdsList());
    }

    @Test
    void getVolumeOfAnUnknownVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, () -> csi.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(Csi.UNKNOWN_VOLUME).build()));
    }

    // ---- ControllerExpandVolume -----------------------------------------------------------------------

    @Test
    void expandGrowsTheVolume() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        assertEquals(2 * GIB, expand(id, 2 * GIB).getCapacityBytes());
        assertEquals(2 * GIB, getVolume(id).getCapacityBytes());
    }

    @Test
    void expandNeverShrinks() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        expand(id, 2 * GIB);
        assertEquals(2 * GIB, expand(id, GIB / 2).getCapacityBytes());
        assertEquals(2 * GIB, getVolume(id).getCapacityBytes());
    }

    @Test
    void expandOfAnUnknownVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, () -> expand(Csi.UNKNOWN_VOLUME, 2 * GIB));
    }

    @Test
    void expandNeedsACapacityRange() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        assertStatus(Code.INVALID_ARGUMENT, "capacity_range", () -> csi.controller().controllerExpandVolume(
                ControllerExpandVolumeRequest.newBuilder().setVolumeId(id).build()));
    }

    private ControllerExpandVolumeResponse expand(String volumeId, long bytes) {
        return csi.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(volumeId).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes)).build());
    }

    private Volume getVolume(String volumeId) {
        return csi.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder().setVolumeId(volumeId)
                .build()).getVolume();
    }

    // ---- ControllerModifyVolume and mutable parameters -------------------------------------------------

    @Test
    void modifyChangesThePermissionsOfTheVolumeRoot() throws IOException {
        String id = csi.createVolume("pvc-1").getVolumeId();
        csi.controller().controllerModifyVolume(ControllerModifyVolumeRequest.newBuilder().setVolumeId(id)
                .putMutableParameters("mode", "0770").build());
        assertEquals("rwxrwx---", permissions(id));
    }

    @Test
    void modifyRefusesAnUnknownKey() throws IOException {
        String id = csi.createVolume("pvc-1").getVolumeId();
        String before = permissions(id);
        assertStatus(Code.INVALID_ARGUMENT, "mutable_parameters.colour", () -> csi.controller().controllerModifyVolume(
                ControllerModifyVolumeRequest.newBuilder().setVolumeId(id).putMutableParameters("colour", "blue")
                        .build()));
        assertEquals(before, permissions(id));
    }

    @Test
    void modifyWithNoParametersChangesNothing() throws IOException {
        String id = csi.createVolume("pvc-1").getVolumeId();
        String before = permissions(id);
        csi.controller().controllerModifyVolume(ControllerModifyVolumeRequest.newBuilder().setVolumeId(id).build());
        assertEquals(before, permissions(id));
        assertStatus(Code.NOT_FOUND, () -> csi.controller().controllerModifyVolume(ControllerModifyVolumeRequest
                .newBuilder().setVolumeId(Csi.UNKNOWN_VOLUME).build()));
    }

    @Test
    void modifyOfAnUnknownVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, () -> csi.controller().controllerModifyVolume(ControllerModifyVolumeRequest
                .newBuilder().setVolumeId(Csi.UNKNOWN_VOLUME).putMutableParameters("mode", "0770").build()));
    }

    @Test
    void createAppliesMutableParameters() throws IOException {
        String id = csi.controller().createVolume(Csi.createVolume("pvc-1").putMutableParams("mode", "0700").build())
                .getVolume().getVolumeId();
        assertEquals("rwx------", permissions(id));
    }

    private String permissions(String volumeId) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(csi.volumeDir(volumeId)));
    }
}
