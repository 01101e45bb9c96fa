package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsResponse;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MountInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A driver restarted on the same data dir serves what the previous one made, mounts included. */
class RestartTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void volumesSnapshotsAndMountsSurviveARestart() throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
        String id = csi.createVolume("pvc-1").getVolumeId();
        csi.stage(id);
        Path target = csi.publish(id, "pod-1");
        Files.writeString(target.resolve("kept.txt"), "kept");
        String snapshotId = csi.createSnapshot("snap-1", id).getSnapshotId();

        csi.restart();

        List<ListVolumesResponse.Entry> volumes = csi.listVolumes();
        assertEquals(List.of(id), volumes.stream().map(e -> e.getVolume().getVolumeId()).toList());
        assertEquals(List.of(Csi.NODE_ID), volumes.get(0).getStatus().getPublishedNodeIdsList());
        assertEquals(List.of(snapshotId), csi.listSnapshotIds());
        NodeGetVolumeStatsResponse stats = csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder()
                .setVolumeId(id).setVolumePath(target.toString()).build());
        assertFalse(stats.getVolumeCondition().getAbnormal(), stats.getVolumeCondition().getMessage());
        assertEquals("kept", Files.readString(target.resolve("kept.txt")));
        csi.publish(id, "pod-1"); // still recorded: the same publish is idempotent, not a new mount

        csi.unpublish(id, target);
        csi.unstage(id);
        csi.deleteSnapshot(snapshotId);
        csi.deleteVolume(id);
        assertEquals(List.of(), csi.listVolumeIds());
        assertEquals(List.of(), CsiCalls.names(csi.volumesDir()));
        assertEquals(List.of(), CsiCalls.names(csi.snapshotsDir()));
        assertTrue(MountInfo.under(csi.root()).isEmpty(), "mounts left: " + MountInfo.under(csi.root()));
    }

    @Test
    void aRestartWithNothingToRecoverChangesNothing() throws Exception {
        String id = csi.createVolume("pvc-1").getVolumeId();
        Files.writeString(csi.volumeDir(id).resolve("a.txt"), "a");
        List<String> records = CsiCalls.names(csi.recordsDir("volumes"));
        csi.restart();
        assertEquals(List.of(id), csi.listVolumeIds());
        assertEquals(records, CsiCalls.names(csi.recordsDir("volumes")));
        assertEquals("a", Files.readString(csi.volumeDir(id).resolve("a.txt")));
    }
}
