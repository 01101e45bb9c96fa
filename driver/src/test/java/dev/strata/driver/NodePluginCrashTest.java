package dev.strata.driver;

import static dev.strata.driver.ClusterTest.assertCode;
import static dev.strata.driver.ClusterTest.volumeOn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.common.model.Ids;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.testkit.Csi;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node plugin, as its own process, killed (halted at a crash point, as by kill -9) between doing
 * the storage work and reporting it, then restarted: the restarted plugin finishes the reconcile
 * without doing the work twice, and the CSI call retried by the sidecar succeeds with one volume.
 */
class NodePluginCrashTest {
    private static final String NODE = "node-a";
    /** The node plugin's crash points, each with a test here (CrashPointCoverageTest checks). */
    static final List<String> CRASH_POINTS = List.of("node.volume.made", "node.volume.deleted", "node.snapshot.taken",
            "node.snapshot.deleted");

    @RegisterExtension
    final ClusterHarness cluster = new ClusterHarness();

    @Test
    void killedAfterMakingTheVolumeBeforeReportingIt() throws Exception {
        Process crashing = cluster.nodeProcess(NODE, "node.volume.made");
        cluster.startController();
        assertCode(Status.Code.ABORTED, () -> cluster.controller().withDeadlineAfter(6, TimeUnit.SECONDS)
                .createVolume(volumeOn("pvc-crash", NODE).build()));
        assertTrue(crashing.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, crashing.exitValue());
        String id = Ids.volumeId("pvc-crash");
        assertEquals(List.of(id), names(volumesDir()), "the storage was made");
        assertEquals(Resources.PENDING, phase(id), "but not reported");

        cluster.nodeProcess(NODE, null);
        assertEquals(id, cluster.controller().createVolume(volumeOn("pvc-crash", NODE).build()).getVolume()
                .getVolumeId());
        assertEquals(Resources.READY, phase(id));
        assertEquals(1, cluster.api().resources(StrataVolume.class).list().getItems().size());
        assertEquals(List.of(id), names(volumesDir()), "made once");
        assertEquals(List.of(id + ".json"), names(cluster.dataDir(NODE).resolve("records/volumes")));
    }

    @Test
    void killedAfterDeletingTheVolumeBeforeReleasingTheFinalizer() throws Exception {
        Process crashing = cluster.nodeProcess(NODE, "node.volume.deleted");
        cluster.startController();
        String id = cluster.controller().createVolume(volumeOn("pvc-gone", NODE).build()).getVolume().getVolumeId();
        assertCode(Status.Code.ABORTED, () -> cluster.controller().withDeadlineAfter(6, TimeUnit.SECONDS)
                .deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build()));
        assertTrue(crashing.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, crashing.exitValue());
        assertEquals(List.of(), names(volumesDir()), "the storage is gone");
        assertTrue(cluster.api().resources(StrataVolume.class).withName(id).get().getMetadata().getFinalizers()
                .contains(Resources.FINALIZER), "the finalizer still holds the resource");

        cluster.nodeProcess(NODE, null);
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        assertNull(cluster.api().resources(StrataVolume.class).withName(id).get());
        assertEquals(List.of(), names(cluster.dataDir(NODE).resolve("records/volumes")));
    }

    @Test
    void killedAfterTakingASnapshotBeforeReportingIt() throws Exception {
        Process crashing = cluster.nodeProcess(NODE, "node.snapshot.taken");
        cluster.startController();
        String volume = cluster.controller().createVolume(volumeOn("pvc-snap", NODE).build()).getVolume()
                .getVolumeId();
        assertCode(Status.Code.ABORTED, () -> cluster.controller().withDeadlineAfter(6, TimeUnit.SECONDS)
                .createSnapshot(Csi.snapshot("snap-crash", volume)));
        assertTrue(crashing.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, crashing.exitValue());

        cluster.nodeProcess(NODE, null);
        String id = cluster.controller().createSnapshot(Csi.snapshot("snap-crash", volume)).getSnapshot()
                .getSnapshotId();
        assertEquals(Ids.snapshotId("snap-crash"), id);
        assertTrue(cluster.api().resources(StrataSnapshot.class).withName(id).get().getStatus().isReadyToUse());
        assertEquals(List.of(id + ".json"), names(cluster.dataDir(NODE).resolve("records/snapshots")));
    }

    @Test
    void killedAfterDeletingASnapshotBeforeReleasingTheFinalizer() throws Exception {
        Process crashing = cluster.nodeProcess(NODE, "node.snapshot.deleted");
        cluster.startController();
        String volume = cluster.controller().createVolume(volumeOn("pvc-snapdel", NODE).build()).getVolume()
                .getVolumeId();
        String id = cluster.controller().createSnapshot(Csi.snapshot("snap-gone", volume)).getSnapshot()
                .getSnapshotId();
        assertCode(Status.Code.ABORTED, () -> cluster.controller().withDeadlineAfter(6, TimeUnit.SECONDS)
                .deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(id).build()));
        assertTrue(crashing.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, crashing.exitValue());
        assertEquals(List.of(), names(cluster.dataDir(NODE).resolve("records/snapshots")), "the snapshot is gone");

        cluster.nodeProcess(NODE, null);
        cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(id).build());
        assertNull(cluster.api().resources(StrataSnapshot.class).withName(id).get());
    }

    private Path volumesDir() {
        return cluster.dataDir(NODE).resolve("engines/dir/volumes");
    }

    private String phase(String id) {
        StrataVolume v = cluster.api().resources(StrataVolume.class).withName(id).get();
        return v.getStatus() == null || v.getStatus().getPhase() == null ? Resources.PENDING : v.getStatus().getPhase();
    }

    private static List<String> names(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }
}
