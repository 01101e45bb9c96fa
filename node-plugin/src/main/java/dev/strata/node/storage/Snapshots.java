package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Ids;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Snapshots of single volumes: the record is written CREATING before the engine cuts and settled
 * READY after, and a delete marks it DELETING before the engine lets go of the data, so that a crash
 * in between leaves a record {@link Recovery} settles. Each call takes its own locks.
 */
final class Snapshots {
    private final Records records;
    private final Engines engines;
    private final LockTable locks;
    private final SnapshotBackups backups;

    Snapshots(Records records, Engines engines, LockTable locks, SnapshotBackups backups) {
        this.records = records;
        this.engines = engines;
        this.locks = locks;
        this.backups = backups;
    }

    SnapshotRecord create(String name, String sourceVolumeId, Map<String, String> parameters, Secrets secrets)
            throws IOException {
        Map<String, String> others = new java.util.HashMap<>(parameters);
        others.remove(BackupRef.TARGET_PARAMETER);
        SnapshotParameters.refuse(others, "snapshot");
        String id = Ids.snapshotId(name);
        try (LockTable.Held held = locks.acquire(LockKeys.snapshot(id), LockKeys.volume(sourceVolumeId))) {
            Optional<SnapshotRecord> existing = records.snapshots().get(id);
            if (existing.isPresent()) {
                if (!existing.get().sourceVolumeId().equals(sourceVolumeId)) {
                    throw CsiException.alreadyExists("name: a snapshot named \"" + name + "\" already exists for "
                            + "another volume (" + existing.get().sourceVolumeId() + ")");
                }
                if (existing.get().state() == RecordState.READY) {
                    return resumed(existing.get(), parameters, secrets);
                }
                discard(existing.get(), secrets); // left by a call that failed and could not undo itself: cut afresh
            }
            VolumeRecord source = records.readyVolume(sourceVolumeId).orElseThrow(() -> CsiException.notFound(
                    "source_volume_id: volume " + sourceVolumeId + " does not exist"));
            VolumeEngine engine = engines.get(source.engine());
            SnapshotRecord record = new SnapshotRecord(id, name, sourceVolumeId, source.engine(),
                    source.capacityBytes(), null, RecordState.CREATING, Instant.now(),
                    backups.plan(id, parameters, engine, secrets));
            records.snapshots().put(record);
            CrashPoint.reach("snapshot.create.recorded");
            backups.unlockAhead(record.backup(), secrets);
            cut(record, source, engine);
            CrashPoint.reach("snapshot.create.stored");
            SnapshotRecord ready = record.withState(RecordState.READY);
            records.snapshots().put(ready);
            return backups.upload(ready, engine, secrets);
        }
    }

    /**
     * A retried CreateSnapshot of a snapshot cut: the same backup target as first asked (or
     * ALREADY_EXISTS), and an upload that is not stored (a restart interrupted it, or it failed)
     * starts again.
     */
    private SnapshotRecord resumed(SnapshotRecord existing, Map<String, String> parameters, Secrets secrets)
            throws IOException {
        String asked = parameters.get(BackupRef.TARGET_PARAMETER);
        String had = existing.backup() == null ? null : existing.backup().target();
        VolumeEngine engine = engines.get(existing.engine());
        String askedUrl = asked == null ? null : backups.plan(existing.id(), parameters, engine, secrets)
                .target();
        if (!java.util.Objects.equals(askedUrl, had)) {
            throw CsiException.alreadyExists("name: snapshot \"" + existing.name() + "\" exists with "
                    + (had == null ? "no backup target" : "backup target " + had) + ", not "
                    + (askedUrl == null ? "none" : askedUrl));
        }
        return backups.upload(existing, engine, secrets);
    }

    /** The engine's cut; one that fails leaves neither data nor record behind. */
    private void cut(SnapshotRecord record, VolumeRecord source, VolumeEngine engine) throws IOException {
        try {
            engine.snapshot(record, source);
        } catch (IOException | RuntimeException e) {
            try {
                engine.deleteSnapshot(record.id());
                records.snapshots().remove(record.id());
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    void delete(String snapshotId, Secrets secrets) throws IOException {
        try (LockTable.Held held = locks.acquire(LockKeys.snapshot(snapshotId))) {
            Optional<SnapshotRecord> found = records.snapshots().get(snapshotId);
            if (found.isEmpty()) {
                return;
            }
            SnapshotRecord s = found.get();
            if (s.groupSnapshotId() != null) {
                throw CsiException.failedPrecondition("snapshot " + snapshotId + " belongs to group snapshot "
                        + s.groupSnapshotId() + "; delete the group instead");
            }
            records.snapshots().put(s.withState(RecordState.DELETING));
            CrashPoint.reach("snapshot.delete.recorded");
            discard(s.withState(RecordState.DELETING), secrets);
        }
    }

    /**
     * Lets go of the snapshot's backup (of one a delete began; a cut that never became READY uploaded
     * nothing), its storage, then its record. The snapshot's lock is held.
     */
    private void discard(SnapshotRecord snapshot, Secrets secrets) throws IOException {
        if (snapshot.state() == RecordState.DELETING) {
            backups.remove(snapshot, secrets);
        }
        engines.get(snapshot.engine()).deleteSnapshot(snapshot.id());
        records.snapshots().remove(snapshot.id());
    }

    List<SnapshotRecord> ready() {
        return records.snapshots().all().stream().filter(s -> s.state() == RecordState.READY).toList();
    }
}
