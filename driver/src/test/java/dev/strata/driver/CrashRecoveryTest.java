package dev.strata.driver;

import static dev.strata.driver.SnapshotUploads.awaitStored;
import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeGroupSnapshotRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsResponse;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.VolumeGroupSnapshot;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MountInfo;
import dev.strata.testkit.ProcessHarness;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kills the driver process at each crash point (as {@code kill -9} would, between two steps of an
 * operation) and checks that the restarted driver has finished or undone the operation: the state is
 * consistent, the call can be retried, and everything can still be cleaned up.
 */
class CrashRecoveryTest {
    @RegisterExtension
    final ProcessHarness driver = new ProcessHarness();

    /** What one crash point needs: state to crash in, the call that crashes, and the checks after restart. */
    private interface Step {
        void run() throws Exception;
    }

    private record Scenario(Step setup, Step crash, Step verify) {}

    private String volumeId;
    private String sourceId;
    private Path target;

    @BeforeAll
    static void needsRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
    }

    /** Every crash point in the main code (CrashPointCoverageTest checks that none is missing). */
    static List<String> crashPoints() {
        return List.of(
                "volume.create.recorded", "volume.create.stored", "dir.create.partial", "volume.delete.recorded",
                "snapshot.create.recorded", "snapshot.create.stored", "snapshot.delete.recorded",
                "group.create.recorded", "node.stage.recorded", "node.publish.recorded", "node.publish.mounted",
                "node.unpublish.unmounted", "node.unstage.unmounted", "hostpath.create.recorded",
                "overlay.create.chained", "overlay.snapshot.frozen", "backup.chunk.stored", "snapshot.backup.stored",
                "backup.repack.packed", "backup.repack.rewritten");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("crashPoints")
    void operationIsFinishedOrUndoneAfterACrashAt(String crashPoint) throws Exception {
        Scenario scenario = scenario(crashPoint);
        scenario.setup().run(); // on the driver the harness started
        driver.terminate();
        driver.startCrashingAt(crashPoint);
        driver.assertCrashes(scenario.crash()::run);
        driver.start();
        scenario.verify().run();
        deleteEverything();
    }

    private Scenario scenario(String crashPoint) {
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
            case "backup.chunk.stored", "snapshot.backup.stored" -> new Scenario(
                    () -> {
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        writeFiles(driver.volumeDir(volumeId));
                    },
                    () -> awaitStored(driver.controller(), remoteSnapshot()), // the upload in the background halts the driver
                    () -> {
                        // The upload resumed at the start: stored, restorable, and nothing stored twice.
                        Snapshot s = awaitStored(driver.controller(), remoteSnapshot());
                        sourceId = s.getSnapshotId();
                        String restored = driver.controller().createVolume(Csi.createVolume("pvc-restored")
                                .putParameters("fromBackup", backupTarget() + "#" + sourceId).build()).getVolume()
                                .getVolumeId();
                        assertFiles(driver.volumeDir(restored));
                        driver.deleteVolume(restored);
                        driver.deleteSnapshot(sourceId);
                        assertEquals(List.of(), CsiCalls.names(driver.root().resolve("target/backups")));
                        for (String stored : List.of("target/chunks", "target/packs")) {
                            assertEquals(List.of(), CsiCalls.files(driver.root().resolve(stored)),
                                    stored + " of the cut-short upload were left behind");
                        }
                    });
            case "backup.repack.packed", "backup.repack.rewritten" -> new Scenario(
                    () -> { // the first backup's pack is mostly junk.bin's, which the second has not
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        writeFiles(driver.volumeDir(volumeId));
                        Files.write(driver.volumeDir(volumeId).resolve("junk.bin"), randomBytes(300_000));
                        sourceId = awaitStored(driver.controller(), remoteSnapshot("snap-old")).getSnapshotId();
                        Files.delete(driver.volumeDir(volumeId).resolve("junk.bin"));
                        awaitStored(driver.controller(), remoteSnapshot());
                    },
                    () -> driver.deleteSnapshot(sourceId), // its prune moves a.txt and b.txt to a new pack
                    () -> {
                        driver.deleteSnapshot(sourceId); // again: whatever the crash left is deleted now
                        String kept = awaitStored(driver.controller(), remoteSnapshot()).getSnapshotId();
                        assertEquals(List.of(kept), driver.listSnapshotIds());
                        volumeId = driver.controller().createVolume(Csi.createVolume("pvc-restored")
                                .putParameters("fromBackup", backupTarget() + "#" + kept).build()).getVolume()
                                .getVolumeId();
                        assertFiles(driver.volumeDir(volumeId));
                        assertFalse(Files.exists(driver.volumeDir(volumeId).resolve("junk.bin")));
                        assertTrue(CsiCalls.files(driver.root().resolve("target/packs")).size() <= 1,
                                "one pack holds what the kept backup names: " + CsiCalls.files(driver.root()
                                        .resolve("target/packs")));
                        driver.deleteSnapshot(kept);
                        assertEquals(List.of(), CsiCalls.files(driver.root().resolve("target/packs")));
                    });
            default -> throw new IllegalArgumentException("no scenario for crash point " + crashPoint);
        };
    }

    private String createOverlay(String name) {
        return driver.controller().createVolume(Csi.createVolume(name).putParameters("engine", "overlay").build())
                .getVolume().getVolumeId();
    }

    private Path overlayDir(String kind) {
        return driver.dataDir().resolve("engines/overlay").resolve(kind);
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

    private String backupTarget() {
        return "file://" + driver.root().resolve("target");
    }

    private CreateSnapshotRequest remoteSnapshot() {
        return remoteSnapshot("snap-remote");
    }

    private CreateSnapshotRequest remoteSnapshot(String name) {
        return CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(volumeId)
                .putParameters("backupTarget", backupTarget()).build();
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        new java.util.Random(16).nextBytes(bytes);
        return bytes;
    }

    private static void writeFiles(Path dir) throws IOException {
        Files.writeString(dir.resolve("a.txt"), "a");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/b.txt"), "b".repeat(100_000));
    }

    private static void assertFiles(Path dir) throws IOException {
        assertEquals("a", Files.readString(dir.resolve("a.txt")));
        assertEquals("b".repeat(100_000), Files.readString(dir.resolve("sub/b.txt")));
    }

    /** The trash is emptied in the background after a start; give it up to 10 s. */
    private void awaitEmptyTrash() throws InterruptedException {
        awaitEmptyTrash(driver.trashDir());
    }

    private static void awaitEmptyTrash(Path trash) throws InterruptedException {
        for (int i = 0; i < 200 && !CsiCalls.names(trash).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), CsiCalls.names(trash), "the trash was not emptied");
    }

    /** Unpublishes, unstages and deletes whatever the scenario left, then checks nothing remains. */
    private void deleteEverything() throws InterruptedException {
        for (String id : driver.listVolumeIds()) {
            driver.unpublish(id, driver.target("pod-1"));
            driver.unstage(id);
        }
        for (String id : driver.listSnapshotIds()) {
            driver.deleteSnapshot(id);
        }
        for (String id : driver.listVolumeIds()) {
            driver.deleteVolume(id);
        }
        assertEquals(List.of(), driver.listVolumeIds());
        assertEquals(List.of(), driver.listSnapshotIds());
        assertEquals(List.of(), CsiCalls.names(driver.volumesDir()));
        assertEquals(List.of(), CsiCalls.names(driver.snapshotsDir()));
        awaitEmptyTrash(driver.trashDir());
        awaitEmptyTrash(overlayDir("trash")); // an overlay volume's filesystem is unmounted there
        assertEquals(List.of(), MountInfo.under(driver.root()), "mounts left under the test directory");
    }
}
