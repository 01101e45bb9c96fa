package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts thin snapshots: each is dm-thin's {@code create_snap} of its origin, noted before the pool
 * makes it and marked ready only once the pool's metadata is committed, so that a crash at any
 * point leaves either no snapshot or one {@link ThinRecovery} finishes or undoes.
 */
final class ThinSnapshots {
    private final ThinPool pool;
    private final ThinIds ids;
    private final ThinDevices volumes;
    private final ThinDevices snapshots;
    private final PoolDevices devices;

    ThinSnapshots(ThinPool pool, ThinIds ids, ThinDevices volumes, ThinDevices snapshots, PoolDevices devices) {
        this.pool = pool;
        this.ids = ids;
        this.volumes = volumes;
        this.snapshots = snapshots;
        this.devices = devices;
    }

    /**
     * Suspends every origin (dm flushes what is in flight), snaps each, resumes them: the snapshots
     * hold the volumes as of one instant, as a power cut would have left them. Snapshots already
     * ready are left alone; one cut short before starts again.
     */
    void cut(List<SnapshotRecord> group, List<VolumeRecord> sources) throws IOException {
        List<String> origins = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            String snapId = group.get(i).id();
            if (snapshots.get(snapId).filter(ThinDevice::ready).isPresent()) {
                continue;
            }
            var half = snapshots.get(snapId);
            if (half.isPresent()) {
                devices.discard(snapId, half.get(), snapshots, false); // cut short before: start again
            }
            String sourceId = sources.get(i).id();
            ThinDevice origin = volumes.get(sourceId).orElseThrow(() -> CsiException.notFound("volume " + sourceId
                    + " has no thin device"));
            ThinDevice snap = ThinDevice.plain(ids.next(), origin.sectors(), origin.fsType());
            if (origin.encrypted()) {
                snap = snap.asEncrypted(origin.unformatted(), false);
            }
            snapshots.put(snapId, snap);
            origins.add(sourceId);
            messages.add("create_snap " + snap.thinId() + " " + origin.thinId());
        }
        if (messages.isEmpty()) {
            return;
        }
        devices.suspendedWhile(origins, () -> {
            for (String m : messages) {
                pool.message(m);
            }
        });
        pool.commit(); // the snapshots are in the pool's metadata before their notes say ready
        for (SnapshotRecord s : group) {
            var note = snapshots.get(s.id());
            if (note.isPresent() && !note.get().ready()) {
                snapshots.put(s.id(), note.get().asReady());
            }
        }
    }

    /** Removes the snapshot's device and its note; nothing when there is neither. */
    void delete(String snapshotId) throws IOException {
        var device = snapshots.get(snapshotId);
        if (device.isPresent()) {
            devices.discard(snapshotId, device.get(), snapshots, false);
        }
    }
}
