package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.csi.v1.ControllerGetVolumeRequest;
import dev.strata.csi.v1.ControllerPublishVolumeRequest;
import dev.strata.csi.v1.ControllerPublishVolumeResponse;
import dev.strata.csi.v1.ControllerUnpublishVolumeRequest;
import dev.strata.testkit.Csi;
import io.grpc.Status.Code;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** ControllerPublish and ControllerUnpublish, on a node that takes at most two volumes. */
class ControllerPublishConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness(2);

    @Test
    void publishIsIdempotentAndShowsTheNode() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        ControllerPublishVolumeResponse first = publish(id, Csi.NODE_ID, false);
        assertEquals(first, publish(id, Csi.NODE_ID, false));
        assertEquals(List.of(Csi.NODE_ID), publishedNodes(id));
    }

    @Test
    void unpublishIsIdempotent() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        publish(id, Csi.NODE_ID, false);
        unpublish(id);
        unpublish(id);
        assertEquals(List.of(), publishedNodes(id));
    }

    @Test
    void unpublishOfAnUnknownVolumeSucceeds() {
        assertDoesNotThrow(() -> unpublish(Csi.UNKNOWN_VOLUME));
    }

    @Test
    void publishToAnUnknownNodeIsNotFound() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        assertStatus(Code.NOT_FOUND, "node_id", () -> publish(id, "other-node", false));
    }

    @Test
    void publishOfAnUnknownVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, () -> publish(Csi.UNKNOWN_VOLUME, Csi.NODE_ID, false));
    }

    @Test
    void publishNeedsACapability() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        assertStatus(Code.INVALID_ARGUMENT, "volume_capability", () -> csi.controller().controllerPublishVolume(
                ControllerPublishVolumeRequest.newBuilder().setVolumeId(id).setNodeId(Csi.NODE_ID).build()));
    }

    @Test
    void republishWithAnotherReadonlyAlreadyExists() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        publish(id, Csi.NODE_ID, false);
        assertStatus(Code.ALREADY_EXISTS, () -> publish(id, Csi.NODE_ID, true));
    }

    @Test
    void publishBeyondTheAttachLimitIsExhausted() {
        publish(csi.createVolume("pvc-1").getVolumeId(), Csi.NODE_ID, false);
        publish(csi.createVolume("pvc-2").getVolumeId(), Csi.NODE_ID, false);
        String third = csi.createVolume("pvc-3").getVolumeId();
        assertStatus(Code.RESOURCE_EXHAUSTED, () -> publish(third, Csi.NODE_ID, false));
        assertEquals(List.of(), publishedNodes(third));
    }

    private ControllerPublishVolumeResponse publish(String volumeId, String nodeId, boolean readonly) {
        return csi.controller().controllerPublishVolume(ControllerPublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId).setNodeId(nodeId).setVolumeCapability(Csi.mount()).setReadonly(readonly)
                .build());
    }

    private void unpublish(String volumeId) {
        csi.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId).setNodeId(Csi.NODE_ID).build());
    }

    private List<String> publishedNodes(String volumeId) {
        return csi.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder().setVolumeId(volumeId)
                .build()).getStatus().getPublishedNodeIdsList();
    }
}
