package dev.strata.node.engine.thin;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a start does to the pool's devices: undoes what a crash left half made, forgets devices the
 * pool no longer has (a delete cut short after the pool's part), activates the volumes, closes the
 * LUKS mappings of volumes that are gone, and drops dm devices that belong to no volume (and their
 * pool devices, when no note names them). Every pool device has a note: the note is written,
 * synced, before the pool is asked to make the device.
 */
final class ThinRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(ThinRecovery.class);

    private final ThinPool pool;
    private final Dmsetup dm;
    private final PoolDevices devices;
    private final ThinEncryption encryption;

    ThinRecovery(ThinPool pool, Dmsetup dm, PoolDevices devices, ThinEncryption encryption) {
        this.pool = pool;
        this.dm = dm;
        this.devices = devices;
        this.encryption = encryption;
    }

    void recover(ThinDevices volumes, ThinDevices snapshots) throws IOException {
        if (pool.releaseLeftoverMetadataSnapshot()) {
            LOG.info("released a metadata snapshot of the thin pool that a crash left reserved");
        }
        for (ThinDevices notes : List.of(volumes, snapshots)) {
            for (Map.Entry<String, ThinDevice> e : notes.all().entrySet()) {
                if (!e.getValue().ready()) {
                    LOG.info("thin device {} of {} was left half made; removing it", e.getValue().thinId(), e.getKey());
                    devices.discard(e.getKey(), e.getValue(), notes, notes == volumes);
                }
            }
        }
        Set<Long> noted = forgetWhatThePoolLacks(List.of(volumes, snapshots));
        Map<String, ThinDevice> live = volumes.all();
        for (Map.Entry<String, ThinDevice> e : live.entrySet()) {
            devices.activate(e.getKey(), e.getValue());
        }
        encryption.closeStrays(live.keySet()); // they hold the stray thin devices below open
        for (String name : dm.list("thin")) {
            if (name.startsWith(PoolDevices.DM_PREFIX)
                    && !live.containsKey(name.substring(PoolDevices.DM_PREFIX.length()))) {
                // Its table names its pool device: "0 SECTORS thin POOL THIN_ID".
                String[] table = dm.table(name).trim().split("\\s+");
                String thinId = table[table.length - 1];
                LOG.info("removing dm device {}, which belongs to no volume", name);
                dm.remove(name);
                if (!noted.contains(Long.parseLong(thinId))) {
                    pool.message("delete " + thinId);
                }
            }
        }
        pool.commit();
    }

    /** Drops the notes of devices the pool does not have; returns the pool IDs the others name. */
    private Set<Long> forgetWhatThePoolLacks(List<ThinDevices> all) throws IOException {
        Set<Long> inPool = pool.deviceIds();
        Set<Long> noted = new HashSet<>();
        for (ThinDevices notes : all) {
            for (Map.Entry<String, ThinDevice> e : notes.all().entrySet()) {
                if (!inPool.contains(e.getValue().thinId())) {
                    LOG.warn("thin device {} of {} is not in the pool (its delete was cut short); forgetting it",
                            e.getValue().thinId(), e.getKey());
                    notes.remove(e.getKey());
                } else {
                    noted.add(e.getValue().thinId());
                }
            }
        }
        return noted;
    }
}
