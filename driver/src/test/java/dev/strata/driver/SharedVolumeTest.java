package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.MountInfo;
import io.grpc.Status.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The shared engine: Docker's --volumes-from, one volume read-write in several pods at once. */
class SharedVolumeTest {
    private static final VolumeCapability RWX = Csi.mount(Mode.MULTI_NODE_MULTI_WRITER);

    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    private String createShared(String name) {
        return csi.controller().createVolume(CreateVolumeRequest.newBuilder().setName(name)
                .addVolumeCapabilities(RWX).putParameters("engine", "shared").build()).getVolume().getVolumeId();
    }

    private Path publish(String id, String pod, VolumeCapability cap) {
        csi.node().nodePublishVolume(Csi.publish(id, csi.staging(id), csi.target(pod)).setVolumeCapability(cap).build());
        return csi.target(pod);
    }

    @Test
    void twoPodsSeeEachOthersWritesAndTheDataOutlivesThem() throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
        String id = createShared("shared-data");
        csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(id)
                .setStagingTargetPath(csi.staging(id).toString()).setVolumeCapability(RWX).build());
        Path writer = publish(id, "writer", RWX);
        Path reader = publish(id, "reader", RWX);
        Files.writeString(writer.resolve("from-writer.txt"), "hello");
        assertEquals("hello", Files.readString(reader.resolve("from-writer.txt")));
        Files.writeString(reader.resolve("from-reader.txt"), "hi back");
        assertEquals("hi back", Files.readString(writer.resolve("from-reader.txt")));

        csi.unpublish(id, writer);
        csi.unpublish(id, reader);
        csi.unstage(id);
        assertTrue(csi.kubeletMounts().isEmpty(), "mounts left: " + csi.kubeletMounts());
        assertEquals("hello", Files.readString(csi.volumeDir(id, "shared").resolve("from-writer.txt")),
                "the data stays after every pod is gone");
        csi.deleteVolume(id);
    }

    @Test
    void aSingleWriterPodStillExcludesOthers() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
        VolumeCapability rwop = Csi.mount(Mode.SINGLE_NODE_SINGLE_WRITER);
        String id = csi.controller().createVolume(CreateVolumeRequest.newBuilder().setName("rwop")
                .addVolumeCapabilities(rwop).putParameters("engine", "shared").build()).getVolume().getVolumeId();
        csi.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(id)
                .setStagingTargetPath(csi.staging(id).toString()).setVolumeCapability(rwop).build());
        Path first = publish(id, "first", rwop);
        assertStatus(Code.FAILED_PRECONDITION, () -> publish(id, "second", rwop));
        csi.unpublish(id, first);
        csi.unstage(id);
    }

    @Test
    void theDirEngineRefusesMultiNodeModes() {
        assertStatus(Code.INVALID_ARGUMENT, "volume_capabilities", () -> csi.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("rwx").addVolumeCapabilities(RWX).build()));
    }
}
