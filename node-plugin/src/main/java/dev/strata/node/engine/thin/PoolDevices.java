package dev.strata.node.engine.thin;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dm devices over the pool's thin devices, named {@code strata-ID}: activating one, removing one
 * with all that lies over it, and holding some suspended for the instant of a pool message.
 */
final class PoolDevices {
    static final String DM_PREFIX = "strata-";
    private static final Logger LOG = LoggerFactory.getLogger(PoolDevices.class);

    /** One step taken while devices are suspended. */
    interface PoolStep {
        void run() throws IOException;
    }

    private final ThinPool pool;
    private final Dmsetup dm;
    private final CommandRunner runner;
    private final ThinEncryption encryption;

    PoolDevices(ThinPool pool, Dmsetup dm, CommandRunner runner, ThinEncryption encryption) {
        this.pool = pool;
        this.dm = dm;
        this.runner = runner;
        this.encryption = encryption;
    }

    static String dmName(String id) {
        return DM_PREFIX + id;
    }

    static String devicePath(String id) {
        return "/dev/mapper/" + dmName(id);
    }

    void activate(String id, ThinDevice device) throws IOException {
        if (!dm.exists(dmName(id))) {
            dm.create(dmName(id), table(device.thinId(), device.sectors()));
        }
    }

    /** Gives the active device its new size: suspended for the instant of the swap. */
    void resize(String id, ThinDevice device) throws IOException {
        dm.reload(dmName(id), table(device.thinId(), device.sectors()));
    }

    /**
     * Removes a volume's or snapshot's device: an encrypted volume's header first, then its blocks
     * (discarded), its dm device, its pool device, and last its note.
     */
    void discard(String id, ThinDevice device, ThinDevices notes, boolean isVolume) throws IOException {
        String name = dmName(id);
        if (dm.exists(name)) {
            if (device.encrypted() && isVolume) {
                encryption.wipe(id);
            }
            runner.run("blkdiscard", devicePath(id)); // frees the blocks down to the data device; best effort
            dm.remove(name);
        }
        try {
            pool.message("delete " + device.thinId());
        } catch (IOException e) {
            // dm-thin refuses an ID it does not have: the device was never made, or is gone already.
            LOG.info("delete of thin device {}: {}", device.thinId(), e.getMessage());
        }
        pool.commit(); // deleted in the pool's metadata before the note goes
        notes.remove(id);
    }

    /**
     * Runs {@code step} with the active devices of these volumes suspended, and always resumes them.
     * An open LUKS mapping is suspended before its thin device (its filesystem frozen, what it has
     * in flight written through), and resumed after it.
     */
    void suspendedWhile(List<String> volumeIds, PoolStep step) throws IOException {
        List<String> suspended = new ArrayList<>();
        try {
            for (String id : volumeIds) {
                for (String name : List.of(ThinEncryption.mapping(id), dmName(id))) {
                    if (dm.exists(name)) {
                        dm.suspend(name);
                        suspended.add(0, name);
                    }
                }
            }
            step.run();
        } finally {
            for (String name : suspended) {
                dm.resume(name);
            }
        }
    }

    private String table(long thinId, long sectors) {
        return "0 " + sectors + " thin " + pool.device() + " " + thinId;
    }
}
