package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.node.engine.VolumeKey;
import java.io.IOException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LUKS2 layer of encrypted thin volumes: the mapping staging opens over the thin device and
 * unstaging closes. The key only ever comes with a stage, so a new volume gets its header and
 * filesystem at its first stage, and a filesystem grown while its volume was closed is grown at
 * the next. Snapshots and clones are thin snapshots of the whole device, header included: they stay
 * encrypted, under the same key.
 */
final class ThinEncryption {
    /** The parameter that asks for it. */
    static final String PARAMETER = "encrypted";
    static final String KEY_FIELD = "secrets." + VolumeKey.SECRET_KEY;
    /** {@code _} never appears in an ID, so a mapping's name is never a volume's thin device's. */
    private static final String MAPPING_PREFIX = "strata-crypt_";
    private static final Logger LOG = LoggerFactory.getLogger(ThinEncryption.class);

    private final Luks luks;
    private final Dmsetup dm;
    private final ThinFilesystem filesystem;
    private final ThinDevices volumes;

    ThinEncryption(Luks luks, Dmsetup dm, ThinFilesystem filesystem, ThinDevices volumes) {
        this.luks = luks;
        this.dm = dm;
        this.filesystem = filesystem;
        this.volumes = volumes;
    }

    static String mapping(String id) {
        return MAPPING_PREFIX + id;
    }

    static String mappingPath(String id) {
        return "/dev/mapper/" + mapping(id);
    }

    /**
     * Opens the volume's mapping with {@code key} and returns the device to use. A new volume is
     * formatted first (a format cut short is simply done again: nothing was ever stored on it). A
     * mapping left open (a restart, a stage repeated) is kept, once the key is shown to open it too.
     */
    String open(String id, ThinDevice device, VolumeKey key, String mkfsOptions) throws IOException {
        if (!key.present()) {
            throw CsiException.invalidArgument(KEY_FIELD, "volume " + id + " is encrypted and its node-stage secret "
                    + "has no " + VolumeKey.SECRET_KEY + " (name the secret in the StorageClass's "
                    + "csi.storage.k8s.io/node-stage-secret-name and -namespace; standalone, mount with --key-file)");
        }
        String thin = ThinEngine.devicePath(id);
        if (device.unformatted()) {
            luks.close(mapping(id), dm);
            luks.format(thin, key);
            luks.open(thin, mapping(id), key, KEY_FIELD, id);
            if (!device.block()) {
                filesystem.make(mappingPath(id), device.fsType(), mkfsOptions);
            }
            volumes.put(id, device.asFormatted());
            return mappingPath(id);
        }
        if (dm.exists(mapping(id))) {
            luks.verify(thin, key, KEY_FIELD, id);
        } else {
            luks.open(thin, mapping(id), key, KEY_FIELD, id);
        }
        if (device.behind()) {
            filesystem.grow(mappingPath(id), device.fsType());
            volumes.put(id, device.withFilesystemBehind(false));
        }
        return mappingPath(id);
    }

    void close(String id) throws IOException {
        luks.close(mapping(id), dm);
    }

    /** Closes the mapping after {@code failure}, to which a failure to close is added. */
    void closeAfter(String id, Exception failure) {
        try {
            close(id);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * After the thin device grew: an open mapping grows with it, online, and so does its
     * filesystem; a closed one grows when next opened, and its note says so.
     */
    void grown(String id, ThinDevice device) throws IOException {
        if (!dm.exists(mapping(id))) {
            volumes.put(id, device.withFilesystemBehind(!device.unformatted()));
            return;
        }
        luks.resize(mapping(id));
        if (!device.block()) {
            filesystem.grow(mappingPath(id), device.fsType());
        }
    }

    /** Closes the mapping and destroys the header, before the thin device goes: no key opens it after. */
    void wipe(String id) throws IOException {
        close(id);
        luks.wipe(ThinEngine.devicePath(id));
    }

    /** At a start: closes the mappings of volumes that are gone (a delete cut short after its close failed). */
    void closeStrays(Set<String> volumeIds) throws IOException {
        for (String name : dm.list("crypt")) {
            if (name.startsWith(MAPPING_PREFIX) && !volumeIds.contains(name.substring(MAPPING_PREFIX.length()))) {
                LOG.info("closing LUKS mapping {}, which belongs to no volume", name);
                luks.close(name, dm);
            }
        }
    }
}
