package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.backup.BackupSummary;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import java.util.Map;

/** Remote snapshots taken through a node's storage in tests, as a CO takes them. */
final class RemoteSnapshots {
    private RemoteSnapshots() {}

    /** Takes a remote snapshot into {@code target} and waits for its upload; returns the stored backup's summary. */
    static BackupSummary backUp(LocalStorage storage, String target, String name, String volumeId) throws Exception {
        SnapshotRecord s = storage.createSnapshot(name, volumeId, Map.of(BackupRef.TARGET_PARAMETER, target),
                Secrets.NONE);
        BackupRef backup = settled(storage, s);
        assertEquals(BackupRef.Phase.STORED, backup.phase(), "the upload of " + name + ": " + backup);
        return BackupRepository.open(target, BackupSecrets.keyOnly(null)).summary(backup.name());
    }

    /** The snapshot's backup once its upload has stopped, stored or failed (or after two minutes). */
    static BackupRef settled(LocalStorage storage, SnapshotRecord snapshot) throws InterruptedException {
        SnapshotRecord s = snapshot;
        for (int i = 0; i < 600 && s.backup().phase() == BackupRef.Phase.UPLOADING; i++) {
            Thread.sleep(200);
            s = storage.findSnapshot(s.id()).orElseThrow();
        }
        return s.backup();
    }
}
