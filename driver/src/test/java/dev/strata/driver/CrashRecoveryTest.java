package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsResponse;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.VolumeGroupSnapshot;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MountInfo;
import io.grpc.Status.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Kills the driver process at each crash point of volumes, snapshots and mounts (as {@code kill -9}
 * would, between two steps of an operation) and checks that the restarted driver has finished or
 * undone the operation: the state is consistent, the call can be retried, and everything can still
 * be cleaned up. The backups' crash points are in {@link BackupCrashRecoveryTest}.
 */
class CrashRecoveryTest extends CrashScenarioFixture {
    private Path target;

    /** Every crash point of volumes, snapshots and mounts (CrashPointCoverageTest checks that none is missing). */
    static List<String> crashPoints() {
        return List.of(
                "volume.create.recorded", "volume.create.stored", "dir.create.partial", "volume.delete.recorded",
                "snapshot.create.recorded", "snapshot.create.stored", "snapshot.delete.recorded",
                "group.create.recorded", "node.stage.recorded", "node.publish.recorded", "node.publish.mounted",
                "node.unpublish.unmounted", "node.unstage.unmounted", "hostpath.create.recorded",
                "overlay.create.chained", "overlay.snapshot.frozen");
    }

    @Override
    Scenario scenario(String crashPoint) {
        return switch (crashPoint) {
            case "volume.create.recorded", "volume.create.stored" -> new Scenario(
                    () -> { },
                    () -> driver.createVolume("pvc-1"),
                    () -> {
                        assertEquals(List.of(), driver.listVolumeIds());
                        assertEquals(List.of(), CsiCalls.names(driver.volumesDir()));
                        assertEquals(List.of(), CsiCalls.names(driver.recordsDir("volumes")));
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        assertTrue(Files.isDirectory(driver.volumeDir(volumeId)), "retried create made no directory");
                    });
            case "hostpath.create.recorded" -> new Scenario(
                    () -> { },
                    () -> driver.controller().createVolume(Csi.createVolume("pvc-h").putParameters("engine", "hostpath")
                            .build()),
                    () -> {
                        assertEquals(List.of(), driver.listVolumeIds());
                        assertEquals(List.of(), CsiCalls.names(driver.hostRoot()), "nothing left on the host");
                        assertEquals(List.of(), CsiCalls.names(driver.dataDir().resolve("engines/hostpath/volumes")));
                        volumeId = driver.controller().createVolume(Csi.createVolume("pvc-h")
                                .putParameters("engine", "hostpath").build()).getVolume().getVolumeId();
                        assertTrue(Files.isDirectory(driver.hostRoot().resolve("pvc-h")), "retried create made it");
                    });
            case "dir.create.partial" -> new Scenario(
                    () -> {
                        sourceId = driver.createVolume("pvc-src").getVolumeId();
                        writeFiles(driver.volumeDir(sourceId));
                    },
                    () -> driver.controller().createVolume(Csi.createVolume("pvc-clone")
                            .setVolumeContentSource(Csi.fromVolume(sourceId)).build()),
                    () -> {
                        assertEquals(List.of(sourceId), driver.listVolumeIds());
                        assertEquals(List.of(sourceId), CsiCalls.names(driver.volumesDir()), "partial copy left");
                        volumeId = driver.controller().createVolume(Csi.createVolume("pvc-clone")
                                .setVolumeContentSource(Csi.fromVolume(sourceId)).build()).getVolume().getVolumeId();
                        assertFiles(driver.volumeDir(volumeId));
                        assertFiles(driver.volumeDir(sourceId));
                    });
            case "volume.delete.recorded" -> new Scenario(
                    () -> {
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        writeFiles(driver.volumeDir(volumeId));
                    },
                    () -> driver.deleteVolume(volumeId),
                    () -> {
                        assertEquals(List.of(), driver.listVolumeIds());
                        assertFalse(Files.exists(driver.volumeDir(volumeId)), "the volume's directory is still there");
                        assertEquals(List.of(), CsiCalls.names(driver.recordsDir("volumes")));
                        awaitEmptyTrash();
                        driver.deleteVolume(volumeId);
                    });
            case "snapshot.create.recorded", "snapshot.create.stored" -> new Scenario(
                    () -> {
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        writeFiles(driver.volumeDir(volumeId));
                    },
                    () -> driver.createSnapshot("snap-1", volumeId),
                    () -> {
                        assertEquals(List.of(), driver.listSnapshotIds());
                        assertEquals(List.of(), CsiCalls.names(driver.snapshotsDir()));
                        assertEquals(List.of(), CsiCalls.names(driver.recordsDir("snapshots")));
                        Snapshot s = driver.createSnapshot("snap-1", volumeId);
                        assertTrue(s.getReadyToUse(), "retried snapshot is not ready");
                        assertFiles(driver.snapshotDir(s.getSnapshotId()));
                    });
            case "snapshot.delete.recorded" -> new Scenario(
                    () -> {
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        sourceId = driver.createSnapshot("snap-1", volumeId).getSnapshotId();
                    },
                    () -> driver.deleteSnapshot(sourceId),
                    () -> {
                        assertEquals(List.of(), driver.listSnapshotIds());
                        assertEquals(List.of(), CsiCalls.names(driver.snapshotsDir()));
                        assertEquals(List.of(), CsiCalls.names(driver.recordsDir("snapshots")));
                        driver.deleteSnapshot(sourceId);
                        assertEquals(List.of(volumeId), driver.listVolumeIds());
                    });
            case "group.create.recorded" -> new Scenario(
                    () -> {
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        sourceId = driver.createVolume("pvc-2").getVolumeId();
                    },
                    () -> createGroup(),
                    () -> {
                        assertEquals(List.of(), driver.listSnapshotIds());
                        assertEquals(List.of(), CsiCalls.names(driver.snapshotsDir()));
                        assertEquals(List.of(), CsiCalls.names(driver.recordsDir("snapshots")));
                        assertEquals(List.of(), CsiCalls.names(driver.recordsDir("groups")));
                        VolumeGroupSnapshot group = createGroup();
                        assertEquals(Set.of(volumeId, sourceId), group.getSnapshotsList().stream()
                                .map(Snapshot::getSourceVolumeId).collect(Collectors.toSet()));
                        driver.groupController().deleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest
                                .newBuilder().setGroupSnapshotId(group.getGroupSnapshotId()).build());
                    });
            case "node.stage.recorded" -> new Scenario(
                    () -> volumeId = driver.createVolume("pvc-1").getVolumeId(),
                    () -> driver.stage(volumeId),
                    () -> {
                        assertFalse(MountInfo.isMountPoint(driver.staging(volumeId)), "staged after all");
                        assertEquals(List.of(), driver.listVolumes().get(0).getStatus().getPublishedNodeIdsList(),
                                "the volume is still recorded as staged");
                        driver.stage(volumeId);
                        assertTrue(MountInfo.isMountPoint(driver.staging(volumeId)), "retried stage mounted nothing");
                    });
            case "node.publish.recorded" -> new Scenario(
                    () -> stagedVolume(),
                    () -> driver.publish(volumeId, "pod-1"),
                    () -> {
                        target = driver.target("pod-1");
                        assertFalse(MountInfo.isMountPoint(target), "the target is mounted");
                        assertFalse(Files.exists(target), "the target directory was left behind");
                        assertStatus(Code.NOT_FOUND, () -> stats(target));
                        driver.publish(volumeId, "pod-1");
                        assertTrue(MountInfo.isMountPoint(target), "retried publish mounted nothing");
                    });
            case "node.publish.mounted" -> new Scenario(
                    () -> stagedVolume(),
                    () -> driver.publish(volumeId, "pod-1"),
                    () -> {
                        target = driver.target("pod-1");
                        assertTrue(MountInfo.isMountPoint(target), "the publish mount is gone");
                        NodeGetVolumeStatsResponse stats = stats(target);
                        assertFalse(stats.getVolumeCondition().getAbnormal(), stats.getVolumeCondition().getMessage());
                        driver.publish(volumeId, "pod-1");
                        assertEquals(1, MountInfo.read().stream().filter(m -> m.point().equals(target)).count(),
                                "the retried publish mounted again");
                        driver.unpublish(volumeId, target);
                        assertFalse(MountInfo.isMountPoint(target), "unpublish left the target mounted");
                        assertFalse(Files.exists(target), "unpublish left the target directory");
                    });
            case "node.unpublish.unmounted" -> new Scenario(
                    () -> {
                        stagedVolume();
                        target = driver.publish(volumeId, "pod-1");
                    },
                    () -> driver.unpublish(volumeId, target),
                    () -> {
                        assertFalse(MountInfo.isMountPoint(target), "the target is mounted");
                        assertFalse(Files.exists(target), "the target directory was left behind");
                        driver.unpublish(volumeId, target);
                        assertStatus(Code.NOT_FOUND, () -> stats(target));
                    });
            case "node.unstage.unmounted" -> new Scenario(
                    () -> stagedVolume(),
                    () -> driver.unstage(volumeId),
                    () -> {
                        assertFalse(MountInfo.isMountPoint(driver.staging(volumeId)), "still staged");
                        assertEquals(List.of(), driver.listVolumes().get(0).getStatus().getPublishedNodeIdsList(),
                                "the volume is still recorded as staged");
                        driver.unstage(volumeId);
                    });
            case "overlay.create.chained" -> new Scenario(
                    () -> { },
                    () -> createOverlay("pvc-o"),
                    () -> {
                        assertEquals(List.of(), driver.listVolumeIds());
                        assertEquals(List.of(), CsiCalls.names(overlayDir("volumes")), "half-made volume left");
                        assertEquals(List.of(), MountInfo.under(driver.root()), "loop filesystem left mounted");
                        volumeId = createOverlay("pvc-o");
                        Path view = driver.stage(volumeId);
                        writeFiles(view);
                        assertFiles(view);
                        driver.unstage(volumeId);
                    });
            case "overlay.snapshot.frozen" -> new Scenario(
                    () -> {
                        volumeId = createOverlay("pvc-o");
                        writeFiles(driver.stage(volumeId));
                    },
                    () -> driver.createSnapshot("snap-o", volumeId),
                    () -> {
                        assertEquals(List.of(), driver.listSnapshotIds());
                        assertEquals(List.of(), CsiCalls.names(overlayDir("snapshots")));
                        assertEquals(List.of(), CsiCalls.names(overlayDir("layers")), "an orphan layer was kept");
                        assertFiles(driver.staging(volumeId)); // still staged and usable through the crash
                        String snap = driver.createSnapshot("snap-o", volumeId).getSnapshotId();
                        sourceId = driver.controller().createVolume(Csi.createVolume("pvc-restored")
                                .setVolumeContentSource(Csi.fromSnapshot(snap)).build()).getVolume().getVolumeId();
                        assertFiles(driver.stage(sourceId));
                        driver.unstage(sourceId);
                        driver.unstage(volumeId);
                    });
            default -> throw new IllegalArgumentException("no scenario for crash point " + crashPoint);
        };
    }

    private String createOverlay(String name) {
        return driver.controller().createVolume(Csi.createVolume(name).putParameters("engine", "overlay").build())
                .getVolume().getVolumeId();
    }

    private void stagedVolume() {
        volumeId = driver.createVolume("pvc-1").getVolumeId();
        driver.stage(volumeId);
    }

    private VolumeGroupSnapshot createGroup() {
        return driver.groupController().createVolumeGroupSnapshot(CreateVolumeGroupSnapshotRequest.newBuilder()
                .setName("group-1").addSourceVolumeIds(volumeId).addSourceVolumeIds(sourceId).build())
                .getGroupSnapshot();
    }

    private NodeGetVolumeStatsResponse stats(Path path) {
        return driver.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(volumeId)
                .setVolumePath(path.toString()).build());
    }

    /** The trash is emptied in the background after a start; give it up to 10 s. */
    private void awaitEmptyTrash() throws InterruptedException {
        awaitEmptyTrash(driver.trashDir());
    }
}
