package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsResponse;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodeUnpublishVolumeRequest;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MountInfo;
import io.grpc.Status.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Ephemeral inline volumes: kubelet publishes a volume it never created, with
 * csi.storage.k8s.io/ephemeral=true, and the volume is gone after NodeUnpublish.
 */
class EphemeralVolumeTest {
    /** What kubelet sends as the volume ID of an inline volume: "csi-" and a hash. */
    private static final String KUBELET_ID = "csi-5f0e1a2b3c4d5e6f";

    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @BeforeEach
    void needsRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
    }

    private NodePublishVolumeRequest.Builder inline(Path target) {
        return NodePublishVolumeRequest.newBuilder().setVolumeId(KUBELET_ID).setTargetPath(target.toString())
                .setVolumeCapability(Csi.mount())
                .putVolumeContext("csi.storage.k8s.io/ephemeral", "true")
                .putVolumeContext("csi.storage.k8s.io/pod.name", "web-0")
                .putVolumeContext("size", "64Mi");
    }

    @Test
    void anInlineVolumeLivesAndDiesWithItsPod() throws Exception {
        Path target = csi.target("pod-1");
        csi.node().nodePublishVolume(inline(target).build());
        csi.node().nodePublishVolume(inline(target).build()); // kubelet retries: idempotent
        Files.writeString(target.resolve("scratch.txt"), "scratch");
        assertEquals(1, csi.listVolumeIds().size());
        String volumeId = csi.listVolumeIds().get(0);
        assertEquals("overlay", csi.listVolumes().get(0).getVolume().getVolumeContextOrThrow("strata.csi.dev/engine"));
        assertEquals("scratch", Files.readString(csi.dataDir().resolve("engines/overlay/volumes").resolve(volumeId)
                .resolve("fs/upper/scratch.txt")));
        assertEquals(64L << 20, csi.listVolumes().get(0).getVolume().getCapacityBytes());

        NodeGetVolumeStatsResponse stats = csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(KUBELET_ID).setVolumePath(target.toString()).build());
        assertFalse(stats.getVolumeCondition().getAbnormal(), stats.getVolumeCondition().getMessage());

        NodeUnpublishVolumeRequest unpublish = NodeUnpublishVolumeRequest.newBuilder().setVolumeId(KUBELET_ID)
                .setTargetPath(target.toString()).build();
        csi.node().nodeUnpublishVolume(unpublish);
        assertFalse(Files.exists(target), "the target directory is removed");
        assertEquals(List.of(), csi.listVolumeIds());
        // The volume's own filesystem is unmounted by the trash's thread, right after.
        for (int i = 0; i < 100 && !MountInfo.under(csi.root()).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertTrue(MountInfo.under(csi.root()).isEmpty(), "mounts left: " + MountInfo.under(csi.root()));
        // The answer was lost, say, and kubelet asks again: the volume is gone, and so is its
        // publication; an error here would keep the pod Terminating.
        csi.node().nodeUnpublishVolume(unpublish);
        assertFalse(Files.exists(target));
    }

    @Test
    void aBadSizeIsRefusedAndMakesNothing() throws Exception {
        Path target = csi.target("pod-1");
        assertStatus(Code.INVALID_ARGUMENT, "volume_context.size",
                () -> csi.node().nodePublishVolume(inline(target).putVolumeContext("size", "lots").build()));
        assertEquals(List.of(), csi.listVolumeIds());
        assertEquals(List.of(), CsiCalls.names(csi.dataDir().resolve("engines/overlay/volumes")));
        assertFalse(Files.exists(target));
    }

    @Test
    void anUnknownAttributeIsRefusedAndMakesNothing() throws Exception {
        Path target = csi.target("pod-1");
        assertStatus(Code.INVALID_ARGUMENT, "colour",
                () -> csi.node().nodePublishVolume(inline(target).putVolumeContext("colour", "blue").build()));
        assertEquals(List.of(), csi.listVolumeIds());
        assertFalse(Files.exists(target));
    }
}
