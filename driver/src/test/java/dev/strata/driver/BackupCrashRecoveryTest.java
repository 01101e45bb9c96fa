package dev.strata.driver;

import static dev.strata.driver.SnapshotUploads.awaitStored;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.Snapshot;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import java.nio.file.Files;
import java.util.List;

/**
 * Kills the driver process at each crash point of a remote snapshot's upload and of the repack a
 * removal runs, and checks that the restarted driver finished or undid it: the backup is stored
 * whole or not at all, a kept backup restores byte for byte, and nothing of a cut-short upload or
 * repack stays in the target once the backups are removed.
 */
class BackupCrashRecoveryTest extends CrashScenarioFixture {
    /** Every crash point of backups (CrashPointCoverageTest checks that none is missing). */
    static List<String> crashPoints() {
        return List.of("backup.chunk.stored", "backup.indexed", "snapshot.backup.stored", "backup.repack.packed",
                "backup.repack.rewritten");
    }

    @Override
    Scenario scenario(String crashPoint) {
        return switch (crashPoint) {
            case "backup.chunk.stored", "backup.indexed", "snapshot.backup.stored" -> new Scenario(
                    () -> {
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        writeFiles(driver.volumeDir(volumeId));
                    },
                    // the upload in the background halts the driver
                    () -> awaitStored(driver::controller, remoteSnapshot()),
                    () -> {
                        // The upload resumed at the start: stored, restorable, and nothing stored twice.
                        Snapshot s = awaitStored(driver::controller, remoteSnapshot());
                        sourceId = s.getSnapshotId();
                        String restored = driver.controller().createVolume(Csi.createVolume("pvc-restored")
                                .putParameters("fromBackup", backupTarget() + "#" + sourceId).build()).getVolume()
                                .getVolumeId();
                        assertFiles(driver.volumeDir(restored));
                        driver.deleteVolume(restored);
                        driver.deleteSnapshot(sourceId);
                        assertEquals(List.of(), CsiCalls.names(driver.root().resolve("target/backups")));
                        for (String stored : List.of("target/chunks", "target/packs", "target/index")) {
                            assertEquals(List.of(), CsiCalls.files(driver.root().resolve(stored)),
                                    stored + " of the cut-short upload were left behind");
                        }
                    });
            case "backup.repack.packed", "backup.repack.rewritten" -> new Scenario(
                    () -> { // the first backup's pack is mostly junk.bin's, which the second has not
                        volumeId = driver.createVolume("pvc-1").getVolumeId();
                        writeFiles(driver.volumeDir(volumeId));
                        Files.write(driver.volumeDir(volumeId).resolve("junk.bin"), randomBytes(300_000));
                        sourceId = awaitStored(driver::controller, remoteSnapshot("snap-old")).getSnapshotId();
                        Files.delete(driver.volumeDir(volumeId).resolve("junk.bin"));
                        awaitStored(driver::controller, remoteSnapshot());
                    },
                    () -> driver.deleteSnapshot(sourceId), // its prune moves a.txt and b.txt to a new pack
                    () -> {
                        driver.deleteSnapshot(sourceId); // again: whatever the crash left is deleted now
                        String kept = awaitStored(driver::controller, remoteSnapshot()).getSnapshotId();
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
}
