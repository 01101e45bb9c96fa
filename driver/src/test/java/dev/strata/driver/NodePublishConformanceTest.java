package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MountInfo;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** NodePublishVolume and NodeUnpublishVolume of a staged volume, with real bind mounts. */
class NodePublishConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    private String volumeId;
    private Path staging;

    @BeforeAll
    static void needsRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
    }

    @BeforeEach
    void stagedVolume() {
        volumeId = csi.createVolume("pvc-1").getVolumeId();
        staging = csi.stage(volumeId);
    }

    /** Each test unpublishes what it published; the harness then checks that nothing is left mounted. */
    @AfterEach
    void unstage() {
        if (staging != null) {
            csi.unstage(volumeId);
        }
    }

    @Test
    void dataWrittenThroughTheTargetLandsInTheVolume() throws IOException {
        Path target = csi.publish(volumeId, "pod-1");
        assertTrue(MountInfo.isMountPoint(target), "target is not a mount point");
        Files.writeString(target.resolve("hello.txt"), "hello");
        assertEquals("hello", Files.readString(csi.volumeDir(volumeId).resolve("hello.txt")));
        csi.unpublish(volumeId, target);
    }

    @Test
    void readonlyPublishCanBeReadButNotWritten() throws IOException {
        Files.writeString(csi.volumeDir(volumeId).resolve("existing.txt"), "old");
        Path target = csi.target("pod-1");
        csi.node().nodePublishVolume(publish(target).setReadonly(true).build());
        assertEquals("old", Files.readString(target.resolve("existing.txt")));
        IOException e = assertThrows(IOException.class, () -> Files.writeString(target.resolve("new.txt"), "x"));
        assertTrue(String.valueOf(e.getMessage()).contains("Read-only file system"), "not EROFS: " + e);
        assertTrue(MountInfo.at(target).orElseThrow().options().contains("ro"), "mount options lack ro");
        csi.unpublish(volumeId, target);
    }

    @Test
    void mountFlagsApplyToTheTarget() {
        Path target = csi.target("pod-1");
        csi.node().nodePublishVolume(publish(target).setVolumeCapability(Csi.mount(Mode.SINGLE_NODE_WRITER,
                "noexec")).build());
        assertTrue(MountInfo.at(target).orElseThrow().options().contains("noexec"),
                "mount options: " + MountInfo.at(target).orElseThrow().options());
        csi.unpublish(volumeId, target);
    }

    @Test
    void anUnknownMountFlagIsRefusedAndNothingIsMounted() {
        Path target = csi.target("pod-1");
        assertStatus(Code.INVALID_ARGUMENT, "mount_flags", () -> csi.node().nodePublishVolume(publish(target)
                .setVolumeCapability(Csi.mount(Mode.SINGLE_NODE_WRITER, "discard")).build()));
        assertEquals(List.of(staging), csi.kubeletMounts());
    }

    @Test
    void publishIsIdempotent() {
        Path target = csi.publish(volumeId, "pod-1");
        csi.publish(volumeId, "pod-1");
        assertEquals(1, MountInfo.read().stream().filter(m -> m.point().equals(target)).count(),
                "the target is mounted more than once");
        csi.unpublish(volumeId, target);
    }

    @Test
    void republishWithAnotherReadonlyAlreadyExists() {
        Path target = csi.publish(volumeId, "pod-1");
        assertStatus(Code.ALREADY_EXISTS, () -> csi.node().nodePublishVolume(publish(target).setReadonly(true)
                .build()));
        assertFalse(MountInfo.at(target).orElseThrow().options().contains("ro"), "the target became read-only");
        csi.unpublish(volumeId, target);
    }

    @Test
    void publishWithoutStageFailsItsPrecondition() {
        String unstaged = csi.createVolume("pvc-2").getVolumeId();
        Path target = csi.target("pod-2");
        assertStatus(Code.FAILED_PRECONDITION, () -> csi.node().nodePublishVolume(
                Csi.publish(unstaged, csi.staging(unstaged), target).build()));
        assertFalse(MountInfo.isMountPoint(target), "mounted anyway");
    }

    @Test
    void targetPathMustBeAbsoluteAndWithoutDotDot() {
        for (String bad : List.of("relative/mount", csi.root() + "/kubelet/../escape", "")) {
            assertStatus(Code.INVALID_ARGUMENT, "target_path", () -> csi.node().nodePublishVolume(
                    Csi.publish(volumeId, staging, Path.of("/placeholder")).setTargetPath(bad).build()));
        }
        assertEquals(List.of(staging), csi.kubeletMounts());
    }

    @Test
    void aTargetThatIsASymbolicLinkIsRefused() throws IOException {
        Path elsewhere = Files.createTempDirectory(Path.of("/tmp"), "elsewhere-");
        try {
            Path link = csi.target("pod-1");
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, elsewhere);
            assertStatus(Code.INVALID_ARGUMENT, "target_path", () -> csi.node().nodePublishVolume(publish(link)
                    .build()));
            assertFalse(MountInfo.isMountPoint(elsewhere), "mounted at the link's destination");
            assertFalse(MountInfo.isMountPoint(link), "mounted at the link");
            assertTrue(Files.isSymbolicLink(link), "the link was replaced");
        } finally {
            MountInfo.unmountAllUnder(elsewhere);
            CsiCalls.deleteTree(elsewhere);
        }
    }

    @Test
    void unpublishRemovesTheTargetAndIsIdempotent() {
        Path target = csi.publish(volumeId, "pod-1");
        csi.unpublish(volumeId, target);
        assertFalse(MountInfo.isMountPoint(target), "still mounted");
        assertFalse(Files.exists(target), "target directory is still there");
        csi.unpublish(volumeId, target);
    }

    @Test
    void unstageWhilePublishedFailsItsPrecondition() {
        Path target = csi.publish(volumeId, "pod-1");
        assertStatus(Code.FAILED_PRECONDITION, () -> csi.unstage(volumeId));
        assertTrue(MountInfo.isMountPoint(staging), "the staging mount went away");
        csi.unpublish(volumeId, target);
    }

    @Test
    void aSingleWriterVolumeIsPublishedOnlyOnce() {
        String id = csi.createVolume("pvc-rwop").getVolumeId();
        csi.node().nodeStageVolume(Csi.stage(id, csi.staging(id)).toBuilder()
                .setVolumeCapability(Csi.mount(Mode.SINGLE_NODE_SINGLE_WRITER)).build());
        Path first = csi.target("pod-1");
        Path second = csi.target("pod-2");
        csi.node().nodePublishVolume(Csi.publish(id, csi.staging(id), first)
                .setVolumeCapability(Csi.mount(Mode.SINGLE_NODE_SINGLE_WRITER)).build());
        assertStatus(Code.FAILED_PRECONDITION, () -> csi.node().nodePublishVolume(
                Csi.publish(id, csi.staging(id), second)
                        .setVolumeCapability(Csi.mount(Mode.SINGLE_NODE_SINGLE_WRITER)).build()));
        assertFalse(MountInfo.isMountPoint(second), "the second target was mounted");
        csi.unpublish(id, first);
        csi.unstage(id);
    }

    @Test
    void aMultiWriterVolumeIsSharedByTwoTargets() throws IOException {
        Path first = csi.publish(volumeId, "pod-1");
        Path second = csi.publish(volumeId, "pod-2");
        Files.writeString(first.resolve("shared.txt"), "shared");
        assertEquals("shared", Files.readString(second.resolve("shared.txt")));
        csi.unpublish(volumeId, second);
        csi.unpublish(volumeId, first);
    }

    private NodePublishVolumeRequest.Builder publish(Path target) {
        return Csi.publish(volumeId, staging, target);
    }
}
