package dev.strata.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.strata.common.model.BackupRef;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

/**
 * A snapshot's backup as the node reports it in a StrataSnapshot's status and the controller reads it
 * back: a failed upload keeps its code and reason (what CreateSnapshot answers), and so does its
 * next try, until one is stored.
 */
class BackupStatusConversionTest {
    private static final String TARGET = "s3://backups/team-a";

    @Test
    void aFailedUploadAndItsNextTryKeepTheFailureUntilStored() {
        BackupRef failed = BackupRef.uploading(TARGET, "snap-1").failed("UNAVAILABLE", "the server is down");
        assertEquals(failed, roundTrip(failed));
        assertEquals(failed.retrying(), roundTrip(failed.retrying()));
        assertEquals(BackupRef.Phase.UPLOADING, roundTrip(failed.retrying()).phase());
        assertEquals("the server is down", roundTrip(failed.retrying()).message());

        StrataSnapshotStatus stored = new StrataSnapshotStatus();
        Conversions.reportBackup(stored, failed.retrying().stored());
        assertNull(stored.getBackupError(), "a stored backup has no failure left");
        assertNull(stored.getBackupErrorCode());
        assertEquals(BackupRef.uploading(TARGET, "snap-1").stored(), read(stored));
    }

    @Test
    void aStatusWrittenBeforeBackupErrorSaysWhyInItsMessage() {
        StrataSnapshotStatus old = new StrataSnapshotStatus();
        old.setBackupUrl(TARGET + "#snap-1");
        old.setBackupPhase("Failed");
        old.setMessage("taken on node n1; its backup failed");
        BackupRef read = read(old);
        assertEquals(BackupRef.Phase.FAILED, read.phase());
        assertEquals("taken on node n1; its backup failed", read.message());
        assertEquals("", read.code(), "no code: the controller answers INTERNAL (CsiException.named)");
    }

    private static BackupRef roundTrip(BackupRef backup) {
        StrataSnapshotStatus st = new StrataSnapshotStatus();
        Conversions.reportBackup(st, backup);
        return read(st);
    }

    private static BackupRef read(StrataSnapshotStatus st) {
        StrataSnapshot s = new StrataSnapshot();
        s.setMetadata(new ObjectMetaBuilder().withName("snap-1").build());
        s.setSpec(new StrataSnapshotSpec());
        st.setPhase(Resources.READY);
        s.setStatus(st);
        return Conversions.snapshotRecord(s).backup();
    }
}
