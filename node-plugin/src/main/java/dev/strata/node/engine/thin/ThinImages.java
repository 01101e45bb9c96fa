package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.BlockImages.DeviceAccess;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Thin devices as images for backups off the node. A snapshot's device is activated only while a
 * backup reads it (a start removes one a crash left active). A volume restored from an image is
 * made without a filesystem of its own: mkfs on it would leave blocks in the image's holes that the
 * image's filesystem does not expect. An encrypted volume's image is its ciphertext, LUKS header
 * included: the restored volume opens with the source's key and is never formatted again.
 */
final class ThinImages {
    static final String FS_LABEL = "fsType";
    static final String ENCRYPTED_LABEL = "encrypted";
    static final String FORMATTED_LABEL = "formatted";
    static final long MAX_BLOCKS = 65_536;
    static final long MAX_BLOCK_BYTES = 4L << 20;

    private final ThinPool pool;
    private final Dmsetup dm;
    private final ThinDevices volumes;
    private final ThinDevices snapshots;
    private final PoolDevices devices;
    private final ThinFilesystem filesystem;

    ThinImages(ThinPool pool, Dmsetup dm, ThinDevices volumes, ThinDevices snapshots, PoolDevices devices,
            ThinFilesystem filesystem) {
        this.pool = pool;
        this.dm = dm;
        this.volumes = volumes;
        this.snapshots = snapshots;
        this.devices = devices;
        this.filesystem = filesystem;
    }

    /** Whether a volume is made to be filled from a backup (and so gets no filesystem of its own). */
    static boolean toBeFilled(VolumeRecord volume) {
        return volume.parameters().containsKey(BackupRef.FROM_PARAMETER);
    }

    /**
     * The pool's chunk (thin_delta's granularity), or a multiple of it for a device of more than
     * {@value #MAX_BLOCKS} chunks, so that a manifest lists at most that many blocks (about 10 MiB
     * of the driver's heap), up to {@value #MAX_BLOCK_BYTES} bytes, a backup's largest chunk.
     */
    int blockBytes(String snapshotId) throws IOException {
        return blockFor(readySnapshot(snapshotId).sectors() * 512, pool.config().chunkBytes());
    }

    static int blockFor(long deviceBytes, long chunkBytes) {
        long perBlock = chunkBytes * MAX_BLOCKS;
        long chunksPerBlock = Math.max(1, (deviceBytes + perBlock - 1) / perBlock);
        return (int) Math.min(chunkBytes * chunksPerBlock, Math.max(chunkBytes, MAX_BLOCK_BYTES / chunkBytes * chunkBytes));
    }

    Map<String, String> labels(String snapshotId) throws IOException {
        ThinDevice snap = readySnapshot(snapshotId);
        return Map.of(FS_LABEL, snap.block() ? "block" : snap.fsType(), ENCRYPTED_LABEL,
                Boolean.toString(snap.encrypted()), FORMATTED_LABEL, Boolean.toString(!snap.unformatted()));
    }

    <T> T readSnapshot(String snapshotId, DeviceAccess<T> read) throws IOException {
        ThinDevice snap = readySnapshot(snapshotId);
        String name = PoolDevices.dmName(snapshotId);
        boolean wasActive = dm.exists(name);
        devices.activate(snapshotId, snap);
        try (FileChannel device = FileChannel.open(Path.of(PoolDevices.devicePath(snapshotId)),
                StandardOpenOption.READ)) {
            return read.with(device, snap.sectors() * 512);
        } finally {
            if (!wasActive) {
                dm.remove(name);
            }
        }
    }

    <T> T fillVolume(VolumeRecord volume, long imageBytes, Map<String, String> labels, DeviceAccess<T> fill)
            throws IOException {
        ThinDevice device = volumes.get(volume.id()).filter(ThinDevice::ready).orElseThrow(() -> CsiException.notFound(
                "volume " + volume.id() + " has no thin device"));
        checkMatches(volume, device, labels);
        long deviceBytes = device.sectors() * 512;
        T filled;
        try (FileChannel channel = FileChannel.open(Path.of(PoolDevices.devicePath(volume.id())),
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            filled = fill.with(channel, deviceBytes);
        }
        boolean grown = deviceBytes > imageBytes;
        if (device.encrypted()) {
            if (Boolean.parseBoolean(labels.get(FORMATTED_LABEL))) {
                volumes.put(volume.id(), device.asFormatted().withFilesystemBehind(grown)); // grown when next opened
            }
        } else if (!device.block() && grown) {
            filesystem.grow(PoolDevices.devicePath(volume.id()), device.fsType());
        }
        return filled;
    }

    /** The image must be what the volume asks for: the same filesystem (or raw block), the same encryption. */
    private static void checkMatches(VolumeRecord volume, ThinDevice device, Map<String, String> labels) {
        String wanted = volume.accessType() == AccessType.BLOCK ? "block" : device.fsType();
        String field = "parameters." + BackupRef.FROM_PARAMETER;
        if (labels.get(FS_LABEL) == null) {
            throw CsiException.invalidArgument(field, "the backup is not a thin volume's image (it is of a "
                    + labels.getOrDefault("engine", "an unknown") + " volume); restore it as a volume of that engine");
        }
        if (!wanted.equals(labels.get(FS_LABEL))) {
            throw CsiException.invalidArgument(field, "the backup is an image of a volume with "
                    + describe(labels.get(FS_LABEL)) + "; this volume asks for " + describe(wanted));
        }
        if (device.encrypted() != Boolean.parseBoolean(labels.get(ENCRYPTED_LABEL))) {
            throw CsiException.invalidArgument(field, device.encrypted()
                    ? "the backup is of a volume that is not encrypted; this volume asks for encrypted: \"true\""
                    : "the backup is of an encrypted volume: a volume restored from it is encrypted too (same key), "
                    + "and its StorageClass must say encrypted: \"true\"");
        }
    }

    private static String describe(String fs) {
        return fs.equals("block") ? "no filesystem (raw block)" : fs;
    }

    private ThinDevice readySnapshot(String snapshotId) throws IOException {
        return snapshots.get(snapshotId).filter(ThinDevice::ready).orElseThrow(() -> CsiException.notFound(
                "snapshot " + snapshotId + " has no thin device"));
    }
}
