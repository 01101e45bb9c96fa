package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.NodeExpandVolumeRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsResponse;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.strata.node.engine.size.ProjectQuota;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MountInfo;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Docker's -v /host/dir:/ctr/dir[:ro] as hostpath volumes: dynamic, static, a single file, and escapes. */
class HostPathVolumeTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @BeforeEach
    void needsRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
    }

    private CreateVolumeRequest.Builder dynamic(String pvcName) {
        return CreateVolumeRequest.newBuilder().setName("pv-" + pvcName).addVolumeCapabilities(Csi.mount())
                .putParameters("engine", "hostpath")
                .putParameters("pathPattern", "${pvc.namespace}/${pvc.name}")
                .putParameters("csi.storage.k8s.io/pvc/namespace", "default")
                .putParameters("csi.storage.k8s.io/pvc/name", pvcName);
    }

    private void stage(String volumeId) {
        csi.node().nodeStageVolume(Csi.stage(volumeId, csi.staging(Csi.safe(volumeId))));
    }

    private Path publish(String volumeId, String pod, boolean readOnly) {
        Path target = csi.target(pod);
        csi.node().nodePublishVolume(Csi.publish(volumeId, csi.staging(Csi.safe(volumeId)), target)
                .setReadonly(readOnly).build());
        return target;
    }

    private void unpublishAndUnstage(String volumeId, Path... targets) {
        for (Path t : targets) {
            csi.unpublish(volumeId, t);
        }
        csi.node().nodeUnstageVolume(Csi.unstage(volumeId, csi.staging(Csi.safe(volumeId))));
    }

    @Test
    void aDynamicVolumeIsAHostDirectoryThatStrataRemovesBecauseItMadeIt() throws Exception {
        String id = csi.controller().createVolume(dynamic("web").build()).getVolume().getVolumeId();
        Path onHost = csi.hostRoot().resolve("default/web");
        assertTrue(Files.isDirectory(onHost));
        stage(id);
        Path rw = publish(id, "writer", false);
        Path ro = publish(id, "reader", true);
        Files.writeString(rw.resolve("log.txt"), "line 1\n");
        assertEquals("line 1\n", Files.readString(onHost.resolve("log.txt")), "the host reads what the pod wrote");
        IOException refused = assertThrows(IOException.class, () -> Files.writeString(ro.resolve("x"), "x"));
        assertTrue(String.valueOf(refused.getMessage()).contains("Read-only file system"), refused.toString());
        unpublishAndUnstage(id, rw, ro);

        csi.deleteVolume(id);
        assertFalse(Files.exists(onHost), "Strata made the directory, so delete removes it");
        assertTrue(Files.isDirectory(csi.hostRoot().resolve("default")), "but not the parents it shares");

        // Made again at the same path, it starts empty: nothing of the deleted volume shows.
        String again = csi.controller().createVolume(dynamic("web").build()).getVolume().getVolumeId();
        assertTrue(Files.isDirectory(onHost));
        try (var entries = Files.list(onHost)) {
            assertEquals(List.of(), entries.toList(), "a re-created host directory is empty");
        }
        csi.deleteVolume(again);
    }

    @Test
    void aDirectoryThatWasThereBeforeIsKeptOnDelete() throws Exception {
        Path onHost = Files.createDirectories(csi.hostRoot().resolve("default/keep"));
        Files.writeString(onHost.resolve("data.txt"), "precious");
        String id = csi.controller().createVolume(dynamic("keep").build()).getVolume().getVolumeId();
        csi.deleteVolume(id);
        assertEquals("precious", Files.readString(onHost.resolve("data.txt")));
    }

    /**
     * A volume says how its size is held: by a project quota where the host root's filesystem has
     * them, else not at all (this host's kernel has no quotas, and a mount at the host path would
     * keep kubelet from unstaging it), rather than pretend. HostPathSizesVmTest fills one in the VM.
     */
    @Test
    void aVolumeSaysHowItsSizeIsHeld() throws Exception {
        assertStatus(Code.INVALID_ARGUMENT, "parameters.sizeLimit", () -> csi.controller().createVolume(
                dynamic("bad").putParameters("sizeLimit", "1Gi").build()));
        assertFalse(Files.exists(csi.hostRoot().resolve("default/bad")), "a refused volume makes no directory");
        var made = csi.controller().createVolume(dynamic("sized")
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(16L << 20)).build());
        String expected = ProjectQuota.on(csi.hostRoot(), new CommandRunner()).map(ProjectQuota::name).orElse("none");
        assertEquals(expected, made.getVolume().getVolumeContextOrThrow("strata.csi.dev/sizeLimit"));
        csi.deleteVolume(made.getVolume().getVolumeId());
    }

    @Test
    void escapesAreRefusedAndMakeNothing() throws Exception {
        Path outside = Files.createDirectories(csi.root().resolve("outside"));
        Files.createSymbolicLink(csi.hostRoot().resolve("linked"), outside);
        assertStatus(Code.INVALID_ARGUMENT, "csi.storage.k8s.io/pvc/name",
                () -> csi.controller().createVolume(dynamic("..").build()));
        assertStatus(Code.INVALID_ARGUMENT, "root", () -> csi.controller().createVolume(dynamic("x")
                .putParameters("root", outside.toString()).build()));
        assertStatus(Code.INVALID_ARGUMENT, "pathPattern", () -> csi.controller().createVolume(dynamic("y")
                .putParameters("csi.storage.k8s.io/pvc/namespace", "linked").build()));
        assertEquals(List.of(), CsiCalls.names(outside), "nothing was made outside the allowed root");
        assertEquals(List.of(), csi.listVolumeIds());

        // Static handles outside the root, through a link, or with '..' are refused and mount nothing.
        for (String handle : List.of("/etc", outside.toString(), csi.hostRoot().resolve("linked").toString(),
                csi.hostRoot() + "/../outside")) {
            assertStatus(Code.INVALID_ARGUMENT, "volume_id", () -> csi.node().nodeStageVolume(
                    NodeStageVolumeRequest.newBuilder().setVolumeId(handle).setVolumeCapability(Csi.mount())
                            .setStagingTargetPath(csi.staging("static").toString()).build()));
        }
        assertTrue(MountInfo.under(csi.root()).isEmpty(), "mounts: " + MountInfo.under(csi.root()));
    }

    @Test
    void aStaticDirectoryAndASingleFileCanBeMounted() throws Exception {
        Path dir = Files.createDirectories(csi.hostRoot().resolve("shared-config"));
        Files.writeString(dir.resolve("app.conf"), "port=80\n");
        stage(dir.toString());
        Path target = publish(dir.toString(), "app", true);
        assertEquals("port=80\n", Files.readString(target.resolve("app.conf")));
        // kubelet asks every mounted CSI volume for its stats, under its ID: here the host path
        NodeGetVolumeStatsResponse stats = csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(dir.toString()).setVolumePath(target.toString()).build());
        assertFalse(stats.getVolumeCondition().getAbnormal(), stats.toString());
        assertTrue(stats.getUsage(0).getUsed() > 0 && stats.getUsage(0).getTotal() > 0, stats.toString());
        csi.node().nodeExpandVolume(NodeExpandVolumeRequest.newBuilder().setVolumeId(dir.toString())
                .setVolumePath(target.toString()).build());
        assertStatus(Code.NOT_FOUND, () -> csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest
                .newBuilder().setVolumeId(dir.toString()).setVolumePath(csi.target("elsewhere").toString()).build()));
        unpublishAndUnstage(dir.toString(), target);

        Path file = Files.writeString(csi.hostRoot().resolve("motd"), "hello\n");
        stage(file.toString());
        Path mounted = publish(file.toString(), "file-user", false);
        assertTrue(Files.isRegularFile(mounted), "a file volume is published as a file");
        Files.writeString(mounted, "updated from inside\n");
        assertEquals("updated from inside\n", Files.readString(file), "the host file itself was written");
        unpublishAndUnstage(file.toString(), mounted);
        assertFalse(Files.exists(mounted));
        assertEquals("updated from inside\n", Files.readString(file));
        assertTrue(MountInfo.under(csi.root()).isEmpty(), "mounts: " + MountInfo.under(csi.root()));
    }

    @Test
    void aSnapshotIsABackupThatRestoresIntoANewHostDirectory() throws Exception {
        String id = csi.controller().createVolume(dynamic("db").build()).getVolume().getVolumeId();
        Path onHost = csi.hostRoot().resolve("default/db");
        Files.writeString(onHost.resolve("table"), "v1");
        String snapshotId = csi.createSnapshot("db-backup", id).getSnapshotId();
        Files.writeString(onHost.resolve("table"), "v2");

        String restored = csi.controller().createVolume(dynamic("db-restored")
                .setVolumeContentSource(Csi.fromSnapshot(snapshotId)).build()).getVolume().getVolumeId();
        assertEquals("v1", Files.readString(csi.hostRoot().resolve("default/db-restored/table")));
        assertStatus(Code.ALREADY_EXISTS, "volume_content_source", () -> csi.controller().createVolume(dynamic("db")
                .setName("pv-into-existing").setVolumeContentSource(Csi.fromSnapshot(snapshotId)).build()));
        assertEquals("v2", Files.readString(onHost.resolve("table")), "a refused restore changed nothing");

        csi.deleteSnapshot(snapshotId);
        csi.deleteVolume(restored);
        csi.deleteVolume(id);
        assertEquals(List.of(), csi.listVolumeIds());
        assertEquals(List.of(), csi.listSnapshotIds());
    }
}
