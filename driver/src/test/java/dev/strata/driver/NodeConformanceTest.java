package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.ControllerExpandVolumeRequest;
import dev.strata.csi.v1.NodeExpandVolumeRequest;
import dev.strata.csi.v1.NodeGetCapabilitiesRequest;
import dev.strata.csi.v1.NodeGetInfoRequest;
import dev.strata.csi.v1.NodeGetInfoResponse;
import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsResponse;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodeServiceCapability.RPC.Type;
import dev.strata.csi.v1.VolumeUsage;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.MountInfo;
import io.grpc.Status.Code;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** NodeStage and NodeUnstage, volume stats, NodeExpand, NodeGetInfo and NodeGetCapabilities. */
class NodeConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void stageBindMountsTheVolumeAndIsIdempotent() {
        assumeRoot();
        String id = csi.createVolume("pvc-1").getVolumeId();
        Path staging = csi.stage(id);
        csi.stage(id);
        assertEquals(List.of(staging), csi.kubeletMounts());
        csi.unstage(id);
        assertFalse(MountInfo.isMountPoint(staging), "still staged");
        csi.unstage(id);
    }

    @Test
    void stageAtASecondPathFailsItsPrecondition() {
        assumeRoot();
        String id = csi.createVolume("pvc-1").getVolumeId();
        Path staging = csi.stage(id);
        Path other = csi.root().resolve("kubelet/staging/other");
        assertStatus(Code.FAILED_PRECONDITION, () -> csi.node().nodeStageVolume(Csi.stage(id, other)));
        assertEquals(List.of(staging), csi.kubeletMounts());
        csi.unstage(id);
    }

    @Test
    void stageOfAnUnknownVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, () -> csi.stage(Csi.UNKNOWN_VOLUME));
    }

    @Test
    void stageNeedsACapabilityAndAStagingPath() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        assertStatus(Code.INVALID_ARGUMENT, "volume_capability", () -> csi.node().nodeStageVolume(
                Csi.stage(id, csi.staging(id)).toBuilder().clearVolumeCapability().build()));
        assertStatus(Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node().nodeStageVolume(
                Csi.stage(id, csi.staging(id)).toBuilder().setStagingTargetPath("relative").build()));
        assertStatus(Code.INVALID_ARGUMENT, "volume_id", () -> csi.node().nodeStageVolume(
                Csi.stage("../" + id, csi.staging(id))));
    }

    @Test
    void statsReportBytesAndInodesOfAHealthyVolume() {
        assumeRoot();
        String id = csi.createVolume("pvc-1").getVolumeId();
        csi.stage(id);
        Path target = csi.publish(id, "pod-1");
        NodeGetVolumeStatsResponse stats = stats(id, target.toString());
        Map<VolumeUsage.Unit, VolumeUsage> usage = stats.getUsageList().stream()
                .collect(Collectors.toMap(VolumeUsage::getUnit, u -> u));
        assertEquals(Set.of(VolumeUsage.Unit.BYTES, VolumeUsage.Unit.INODES), usage.keySet());
        for (VolumeUsage u : usage.values()) {
            assertTrue(u.getTotal() > 0 && u.getUsed() > 0 && u.getAvailable() > 0, "usage: " + u);
        }
        assertFalse(stats.getVolumeCondition().getAbnormal(), stats.getVolumeCondition().getMessage());
        assertFalse(stats(id, csi.staging(id).toString()).getVolumeCondition().getAbnormal(),
                "the staging path is not healthy");
        csi.unpublish(id, target);
        csi.unstage(id);
    }

    @Test
    void statsOfAPathTheVolumeIsNotAtAreNotFound() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        assertStatus(Code.NOT_FOUND, "volume_path", () -> stats(id, csi.root().resolve("nowhere").toString()));
        assertStatus(Code.NOT_FOUND, "volume_path", () -> stats(id, csi.dataDir().toString()));
    }

    @Test
    void statsOfAnUnknownVolumeAreNotFound() {
        assertStatus(Code.NOT_FOUND, () -> stats(Csi.UNKNOWN_VOLUME, csi.root().toString()));
    }

    @Test
    void nodeExpandReportsTheControllerExpandedCapacity() {
        assumeRoot();
        // Without a size limit: a loop filesystem grows in use only with CAP_SYS_RESOURCE (below).
        String id = csi.controller().createVolume(Csi.createVolume("pvc-1").putParameters("sizeLimit", "none").build())
                .getVolume().getVolumeId();
        csi.stage(id);
        Path target = csi.publish(id, "pod-1");
        long bigger = 3 * CsiHarness.DEFAULT_VOLUME_BYTES;
        CapacityRange range = CapacityRange.newBuilder().setRequiredBytes(bigger).build();
        csi.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(range).build());
        long reported = csi.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setVolumePath(target.toString()).setCapacityRange(range).build()).getCapacityBytes();
        assertEquals(bigger, reported);
        csi.unpublish(id, target);
        csi.unstage(id);

        String sized = csi.createVolume("pvc-sized").getVolumeId();
        csi.stage(sized);
        ControllerExpandVolumeRequest grow = ControllerExpandVolumeRequest.newBuilder().setVolumeId(sized)
                .setCapacityRange(range).build();
        if (Posix.hasCapability(Posix.CAP_SYS_RESOURCE)) {
            assertEquals(bigger, csi.controller().controllerExpandVolume(grow).getCapacityBytes());
        } else {
            assertStatus(Code.FAILED_PRECONDITION, "cannot grow the volume while it is in use",
                    () -> csi.controller().controllerExpandVolume(grow));
        }
        csi.unstage(sized);
        assertEquals(bigger, csi.controller().controllerExpandVolume(grow).getCapacityBytes(), "grown unmounted");
    }

    @Test
    void nodeInfoNamesTheNodeItsLimitAndTopology() {
        NodeGetInfoResponse info = csi.node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance());
        assertEquals(Csi.NODE_ID, info.getNodeId());
        assertEquals(1024, info.getMaxVolumesPerNode());
        assertEquals(Map.of(Csi.TOPOLOGY_KEY, Csi.NODE_ID), info.getAccessibleTopology().getSegmentsMap());
    }

    @Test
    void nodeCapabilitiesIncludeStagingStatsAndExpansion() {
        Set<Type> types = csi.node().nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().stream().map(c -> c.getRpc().getType()).collect(Collectors.toSet());
        assertTrue(types.containsAll(Set.of(Type.STAGE_UNSTAGE_VOLUME, Type.GET_VOLUME_STATS, Type.EXPAND_VOLUME,
                Type.VOLUME_CONDITION)), "capabilities: " + types);
    }

    @Test
    void unstageOfAVolumeThatIsNotStagedSucceeds() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        csi.unstage(id);
        assertEquals(List.of(), csi.kubeletMounts());
    }

    @Test
    void publishAndUnpublishNameTheirMissingFields() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        NodePublishVolumeRequest publish = Csi.publish(id, csi.staging(id), csi.target("pod-1")).build();
        assertStatus(Code.INVALID_ARGUMENT, "volume_id", () -> csi.node().nodePublishVolume(
                publish.toBuilder().clearVolumeId().build()));
        assertStatus(Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node().nodePublishVolume(
                publish.toBuilder().clearStagingTargetPath().build()));
        assertStatus(Code.INVALID_ARGUMENT, "target_path", () -> csi.node().nodePublishVolume(
                publish.toBuilder().clearTargetPath().build()));
        assertStatus(Code.INVALID_ARGUMENT, "volume_capability", () -> csi.node().nodePublishVolume(
                publish.toBuilder().clearVolumeCapability().build()));
        assertStatus(Code.INVALID_ARGUMENT, "target_path", () -> csi.node().nodeUnpublishVolume(
                Csi.unpublish(id, csi.target("pod-1")).toBuilder().clearTargetPath().build()));
        assertStatus(Code.INVALID_ARGUMENT, "staging_target_path", () -> csi.node().nodeUnstageVolume(
                Csi.unstage(id, csi.staging(id)).toBuilder().clearStagingTargetPath().build()));
        assertEquals(List.of(), csi.kubeletMounts());
    }

    /**
     * Stage and publish of an unknown volume are NOT_FOUND; their undoing has nothing to undo, and
     * answers OK: kubelet retries any error from NodeUnpublishVolume and NodeUnstageVolume for ever.
     */
    @Test
    void anUnknownVolumeCannotBeUsedAndHasNothingToUndo() {
        String id = Csi.UNKNOWN_VOLUME;
        assertStatus(Code.NOT_FOUND, () -> csi.node().nodePublishVolume(
                Csi.publish(id, csi.staging(id), csi.target("pod-1")).build()));
        csi.unpublish(id, csi.target("pod-1"));
        csi.unstage(id);
        assertEquals(List.of(), csi.kubeletMounts());
    }

    private NodeGetVolumeStatsResponse stats(String volumeId, String path) {
        return csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(volumeId)
                .setVolumePath(path).build());
    }

    private static void assumeRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
    }
}
