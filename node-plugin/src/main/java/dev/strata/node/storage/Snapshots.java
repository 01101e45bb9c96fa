package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.model.Ids;
import dev.strata.common.model.RecordState;
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

    Snapshots(Records records, Engines engines, LockTable locks) {
        this.records = records;
        this.engines = engines;
        this.locks = locks;
    }

    SnapshotRecord create(String name, String sourceVolumeId, Map<String, String> parameters) throws IOException {
        SnapshotParameters.refuse(parameters, "snapshot");
        String id = Ids.snapshotId(name);
        try (LockTable.Held held = locks.acquire(LockKeys.snapshot(id), LockKeys.volume(sourceVolumeId))) {
            Optional<SnapshotRecord> existing = records.snapshots().get(id);
            if (existing.isPresent()) {
                if (!existing.get().sourceVolumeId().equals(sourceVolumeId)) {
                    throw CsiException.alreadyExists("name: a snapshot named \"" + name + "\" already exists for "
                            + "another volume (" + existing.get().sourceVolumeId() + ")");
                }
                return existing.get();
            }
            VolumeRecord source = records.readyVolume(sourceVolumeId).orElseThrow(() -> CsiException.notFound(
                    "source_volume_id: volume " + sourceVolumeId + " does not exist"));
            SnapshotRecord record = new SnapshotRecord(id, name, sourceVolumeId, source.engine(),
                    source.capacityBytes(), null, RecordState.CREATING, Instant.now());
            records.snapshots().put(record);
            CrashPoint.reach("snapshot.create.recorded");
            cut(record, source, engines.get(source.engine()));
            CrashPoint.reach("snapshot.create.stored");
            SnapshotRecord ready = record.withState(RecordState.READY);
            records.snapshots().put(ready);
            return ready;
        }
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

    void delete(String snapshotId) throws IOException {
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
            engines.get(s.engine()).deleteSnapshot(snapshotId);
            records.snapshots().remove(snapshotId);
        }
    }

    List<SnapshotRecord> ready() {
        return records.snapshots().all().stream().filter(s -> s.state() == RecordState.READY).toList();
    }
}
