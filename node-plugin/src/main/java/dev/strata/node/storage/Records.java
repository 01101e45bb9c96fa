package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.records.RecordStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** The node's three kinds of record, each in its own store under {@code DATA_DIR/records}. */
record Records(RecordStore<VolumeRecord> volumes, RecordStore<SnapshotRecord> snapshots,
        RecordStore<GroupSnapshotRecord> groups) {

    static Records open(Path dataDir) throws IOException {
        Path records = dataDir.resolve("records");
        // A record is synced when it says something is READY: losing that write would lose data the
        // CO was told exists. CREATING/DELETING records only guide clean-up, which is safe to redo.
        return new Records(
                new RecordStore<>(records.resolve("volumes"), VolumeRecord.class, VolumeRecord::id,
                        v -> v.state() == RecordState.READY),
                new RecordStore<>(records.resolve("snapshots"), SnapshotRecord.class, SnapshotRecord::id,
                        s -> s.state() == RecordState.READY),
                new RecordStore<>(records.resolve("groups"), GroupSnapshotRecord.class, GroupSnapshotRecord::id,
                        g -> g.state() == RecordState.READY));
    }

    Optional<VolumeRecord> readyVolume(String id) {
        return volumes.get(id).filter(v -> v.state() == RecordState.READY);
    }

    /** The ready volume, or NOT_FOUND: what every call on an existing volume answers when it is not there. */
    VolumeRecord requireVolume(String id) {
        return readyVolume(id).orElseThrow(() -> CsiException.notFound("volume " + id + " does not exist"));
    }

    Optional<SnapshotRecord> readySnapshot(String id) {
        return snapshots.get(id).filter(s -> s.state() == RecordState.READY);
    }
}
