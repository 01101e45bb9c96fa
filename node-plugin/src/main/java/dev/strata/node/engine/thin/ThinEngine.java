package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.PoolUsage;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.BlockImages;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.iolimit.IoLimits;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceNumber;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Docker's devicemapper storage driver and the Convoy volume plugin, done properly: each volume is
 * a thin device of the node's dm-thin pool, with ext4 or xfs on it or used raw (block volumes).
 * <ul>
 * <li>A snapshot is dm-thin's {@code create_snap}: the origin is suspended for the instant it takes
 * (writes in flight are flushed first), whatever the volume's size. A restore or clone is a
 * {@code create_snap} of the snapshot (or of the live volume), activated as a new device.
 * <li>A group snapshot suspends every origin, snaps them all, then resumes them: crash-consistent.
 * <li>Expansion reloads the device's table with the new size, then grows the filesystem online
 * (resize2fs, xfs_growfs).
 * <li>The engine notes each device before the pool makes it ({@link ThinDevices}); a start finishes
 * or undoes what a crash interrupted, activates what should be active and removes dm devices
 * that belong to nothing.
 * </ul>
 */
public final class ThinEngine implements VolumeEngine, BlockImages {
    public static final String NAME = "thin";
    /** The filesystem, as external-provisioner passes a StorageClass's csi.storage.k8s.io/fstype. */
    public static final String FS_TYPE_PARAMETER = dev.strata.common.Capabilities.FS_TYPE_PARAMETER;
    public static final String MKFS_OPTIONS_PARAMETER = "mkfsOptions";
    /** "true": the volume is LUKS2-encrypted, with the key of its node-stage secret. */
    public static final String ENCRYPTED_PARAMETER = ThinEncryption.PARAMETER;

    private final ThinPool pool;
    private final Dmsetup dm;
    private final ThinIds ids;
    private final ThinDevices volumes;
    private final ThinDevices snapshots;
    private final Mounter mounter;
    private final ThinPoolMonitor monitor;
    private final ThinFilesystem filesystem;
    private final ThinEncryption encryption;
    private final ThinBlockMaps blockMaps;
    private final PoolDevices devices;
    private final ThinSnapshots cuts;
    private final ThinImages images;

    public ThinEngine(Path root, ThinPoolConfig config, Mounter mounter, CommandRunner runner) throws IOException {
        this.dm = new Dmsetup(runner);
        this.pool = new ThinPool(config, dm, runner);
        Files.createDirectories(root);
        this.ids = new ThinIds(root.resolve("next-thin-id"));
        this.volumes = new ThinDevices(root.resolve("volumes"));
        this.snapshots = new ThinDevices(root.resolve("snapshots"));
        this.mounter = mounter;
        this.monitor = new ThinPoolMonitor(pool);
        this.filesystem = new ThinFilesystem(runner, mounter, root.resolve("growing"));
        this.encryption = new ThinEncryption(new Luks(runner), dm, filesystem, volumes);
        this.blockMaps = new ThinBlockMaps(pool, snapshots, runner);
        this.devices = new PoolDevices(pool, dm, runner, encryption);
        this.cuts = new ThinSnapshots(pool, ids, volumes, snapshots, devices);
        this.images = new ThinImages(pool, dm, volumes, snapshots, devices, filesystem);
    }

    @Override
    public EngineTraits traits() {
        return new EngineTraits(NAME, EnumSet.of(AccessType.MOUNT, AccessType.BLOCK),
                EnumSet.of(AccessMode.SINGLE_NODE_WRITER, AccessMode.SINGLE_NODE_READER_ONLY,
                        AccessMode.SINGLE_NODE_SINGLE_WRITER, AccessMode.SINGLE_NODE_MULTI_WRITER),
                Set.of("", "ext4", "xfs"), ThinParameters.KEYS, IoLimits.KEYS, false);
    }

    @Override
    public void validateParameters(String field, Map<String, String> parameters) {
        ThinParameters.validate(field, parameters);
    }

    @Override
    public long minimumBytes(Map<String, String> parameters, AccessType accessType) {
        return ThinParameters.minimumBytes(parameters, accessType);
    }

    /** Undoes growths a crash cut off, activates the pool, its devices as {@link ThinRecovery} says, watches it. */
    @Override
    public void start() throws IOException {
        filesystem.sweepGrowths();
        pool.activate();
        new ThinRecovery(pool, dm, devices, encryption).recover(volumes, snapshots);
        monitor.start();
    }

    /** Stops watching the pool. */
    @Override
    public void close() throws InterruptedException {
        monitor.close();
    }

    @Override
    public void create(VolumeRecord volume) throws IOException {
        var existing = volumes.get(volume.id());
        if (existing.isPresent() && existing.get().ready()) {
            devices.activate(volume.id(), existing.get());
            return;
        }
        if (existing.isPresent()) {
            devices.discard(volume.id(), existing.get(), volumes, true); // a create cut short: start again
        }
        boolean encrypted = ThinParameters.encrypted(volume.parameters());
        long sectors = sectors(volume.capacityBytes()) + (encrypted ? Luks.HEADER_BYTES / 512 : 0);
        Capacity capacity = capacity();
        if (volume.capacityBytes() > capacity.availableBytes()) {
            throw CsiException.resourceExhausted("the thin pool can give " + capacity.availableBytes()
                    + " more bytes of volumes (over-commit " + pool.config().overcommit() + "), not "
                    + volume.capacityBytes());
        }
        String fs = volume.accessType() == AccessType.BLOCK ? "" : ThinParameters.fsType(volume.parameters());
        ContentSource source = volume.source();
        ThinDevice origin = source == null ? null : origin(source, encrypted);
        ThinDevice device = ThinDevice.plain(ids.next(), sectors, fs);
        if (encrypted) {
            boolean isNew = origin == null || origin.unformatted(); // a copy of a never-staged one is as new
            device = device.asEncrypted(isNew, !isNew && sectors > origin.sectors());
        }
        volumes.put(volume.id(), device);
        long thinId = device.thinId();
        if (source == null) {
            pool.message("create_thin " + thinId);
        } else if (source.kind() == ContentSource.Kind.SNAPSHOT) {
            pool.message("create_snap " + thinId + " " + origin.thinId());
        } else {
            devices.suspendedWhile(List.of(source.id()),
                    () -> pool.message("create_snap " + thinId + " " + origin.thinId()));
        }
        pool.commit(); // the pool's metadata holds the device before anything says it is there
        devices.activate(volume.id(), device);
        // an encrypted one gets its filesystem when its key comes; a restored one, from its image
        if (!device.block() && !encrypted && !ThinImages.toBeFilled(volume)) {
            if (source == null) {
                filesystem.make(devicePath(volume.id()), fs, volume.parameters().getOrDefault(MKFS_OPTIONS_PARAMETER,
                        ""));
            } else if (sectors > origin.sectors()) {
                filesystem.grow(devicePath(volume.id()), fs);
            }
        }
        volumes.put(volume.id(), device.asReady());
    }

    /**
     * The device a new volume is cut from. Encryption follows the data: an encrypted source makes
     * an encrypted volume (same header, same key) and a plain one a plain volume, so the two must
     * agree with what the new volume's parameters ask.
     */
    private ThinDevice origin(ContentSource source, boolean encrypted) throws IOException {
        boolean snapshot = source.kind() == ContentSource.Kind.SNAPSHOT;
        ThinDevice origin = (snapshot ? snapshots : volumes).get(source.id()).orElseThrow(() -> CsiException.notFound(
                (snapshot ? "snapshot " : "volume ") + source.id() + " has no thin device"));
        if (origin.encrypted() != encrypted) {
            throw CsiException.invalidArgument("parameters." + ENCRYPTED_PARAMETER, (snapshot ? "snapshot " : "volume ")
                    + source.id() + (origin.encrypted() ? " is encrypted: a volume made from it is too, and its "
                    + "StorageClass must say encrypted: \"true\" (with the same key's node-stage secret)"
                    : " is not encrypted, and a volume made from it cannot be (encryption is chosen when a volume "
                    + "is first made)"));
        }
        return origin;
    }

    @Override
    public void delete(String volumeId) throws IOException {
        var device = volumes.get(volumeId);
        if (device.isPresent()) {
            devices.discard(volumeId, device.get(), volumes, true);
        }
    }

    @Override
    public void expand(VolumeRecord volume, long newBytes) throws IOException {
        ThinDevice device = require(volume.id());
        long sectors = sectors(newBytes) + (device.encrypted() ? Luks.HEADER_BYTES / 512 : 0);
        ThinDevice grown = sectors > device.sectors() ? device.withSectors(sectors) : device;
        if (grown != device) {
            devices.resize(volume.id(), grown);
            volumes.put(volume.id(), grown);
        }
        // The filesystem follows even a device already this big: storage asks only while the volume's
        // record is smaller, so that is a retry of a growth whose filesystem step failed or was killed.
        if (device.encrypted()) {
            encryption.grown(volume.id(), grown);
        } else if (!device.block()) {
            filesystem.grow(devicePath(volume.id()), device.fsType());
        }
    }

    @Override
    public void modify(VolumeRecord volume, Map<String, String> parameters) {} // it has no mutable parameters

    @Override
    public void snapshot(SnapshotRecord snapshot, VolumeRecord source) throws IOException {
        snapshotGroup(List.of(snapshot), List.of(source));
    }

    /** Every origin suspended for the one instant all are snapped: crash-consistent ({@link ThinSnapshots}). */
    @Override
    public void snapshotGroup(List<SnapshotRecord> group, List<VolumeRecord> sources) throws IOException {
        cuts.cut(group, sources);
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        cuts.delete(snapshotId);
    }

    @Override
    public Set<String> storedVolumeIds() throws IOException {
        return volumes.all().keySet();
    }

    @Override
    public Set<String> storedSnapshotIds() throws IOException {
        return snapshots.all().keySet();
    }

    @Override
    public void stage(VolumeRecord volume, Path mountPoint, BindOptions options) throws IOException {
        stage(volume, mountPoint, options, VolumeKey.NONE);
    }

    /** An encrypted volume is opened with {@code key} (made, the first time) and its mapping is staged. */
    @Override
    public void stage(VolumeRecord volume, Path mountPoint, BindOptions options, VolumeKey key) throws IOException {
        ThinDevice device = require(volume.id());
        devices.activate(volume.id(), device);
        String mkfsOptions = volume.parameters().getOrDefault(MKFS_OPTIONS_PARAMETER, "");
        String path = device.encrypted() ? encryption.open(volume.id(), device, key, mkfsOptions)
                : devicePath(volume.id());
        try {
            if (device.block()) {
                // Nothing to mount: the staging directory is bound onto itself so that it is recorded
                // as staged like any other; NodePublish binds the device node into the pod.
                mounter.bind(mountPoint, mountPoint, BindOptions.NONE);
            } else {
                mounter.mount(path, mountPoint, device.fsType(), options.flags(), null);
            }
        } catch (IOException | RuntimeException e) {
            if (device.encrypted()) {
                encryption.closeAfter(volume.id(), e); // a failed stage leaves no mapping open
            }
            throw e;
        }
    }

    @Override
    public boolean limitsIo(VolumeRecord volume) {
        return true;
    }

    /** The device pods do their I/O on: the crypt mapping of an encrypted volume, else the thin device. */
    @Override
    public Optional<DeviceNumber> ioDevice(VolumeRecord volume) throws IOException {
        String id = volume.id();
        return Optional.of(DeviceNumber.ofDevice(Path.of(ThinParameters.encrypted(volume.parameters())
                ? ThinEncryption.mappingPath(id) : devicePath(id))));
    }

    @Override
    public Path publishSource(VolumeRecord volume, Path stageMountPoint) {
        if (volume.accessType() != AccessType.BLOCK) {
            return stageMountPoint;
        }
        String id = volume.id();
        return Path.of(ThinParameters.encrypted(volume.parameters()) ? ThinEncryption.mappingPath(id) : devicePath(id));
    }

    @Override
    public void unstage(VolumeRecord volume, Path mountPoint) throws IOException {
        mounter.unmount(mountPoint);
        if (ThinParameters.encrypted(volume.parameters())) {
            encryption.close(volume.id());
        }
    }

    @Override
    public Map<String, String> attributes(VolumeRecord volume) throws IOException {
        ThinDevice device = require(volume.id());
        return Map.of("device", devicePath(volume.id()), "thinId", Long.toString(device.thinId()),
                dev.strata.common.Capabilities.FS_TYPE_ATTRIBUTE, device.block() ? "block" : device.fsType(),
                "encryption", device.encrypted() ? "luks2" : "none");
    }

    @Override
    public VolumeHealth health(VolumeRecord volume) {
        try {
            String problem = pool.status().problem();
            if (problem != null) {
                return VolumeHealth.abnormal(problem);
            }
            if (!dm.exists(dmName(volume.id()))) {
                return VolumeHealth.abnormal("the volume's thin device " + dmName(volume.id()) + " is not active");
            }
            return VolumeHealth.OK;
        } catch (IOException | RuntimeException e) {
            return VolumeHealth.abnormal("the thin pool's status cannot be read: " + e.getMessage());
        }
    }

    /** What new volumes may still take, given the sizes of the volumes there are. */
    @Override
    public Capacity capacity() throws IOException {
        long promised = 0;
        for (ThinDevice d : volumes.all().values()) {
            promised += d.sectors() * 512;
        }
        return monitor.capacity(promised);
    }

    @Override
    public List<PoolUsage> pools() throws IOException {
        return List.of(monitor.usage());
    }

    /** The pool's watch: its low-water events, growths, limit and state. */
    @Override
    public List<Sample> samples() throws IOException {
        return monitor.samples(NAME, pool.status());
    }

    ThinPoolConfig poolConfig() {
        return pool.config();
    }

    /** From thin_dump of the pool's metadata snapshot: the blocks the snapshot's device maps. */
    @Override
    public BlockMap allocated(String snapshotId) throws IOException {
        return blockMaps.allocated(snapshotId);
    }

    /** From thin_delta of the pool's metadata snapshot: the blocks that differ between the two devices. */
    @Override
    public BlockMap changed(String baseSnapshotId, String targetSnapshotId) throws IOException {
        return blockMaps.changed(baseSnapshotId, targetSnapshotId);
    }

    @Override
    public int blockBytes(String snapshotId) throws IOException {
        return images.blockBytes(snapshotId);
    }

    @Override
    public Map<String, String> imageLabels(String snapshotId) throws IOException {
        return images.labels(snapshotId);
    }

    @Override
    public <T> T readSnapshot(String snapshotId, DeviceAccess<T> read) throws IOException {
        return images.readSnapshot(snapshotId, read);
    }

    @Override
    public <T> T fillVolume(VolumeRecord volume, long imageBytes, Map<String, String> labels, DeviceAccess<T> fill)
            throws IOException {
        return images.fillVolume(volume, imageBytes, labels, fill);
    }

    private ThinDevice require(String volumeId) throws IOException {
        return volumes.get(volumeId).orElseThrow(() -> CsiException.notFound("volume " + volumeId
                + " has no thin device"));
    }

    static String dmName(String id) {
        return PoolDevices.dmName(id);
    }

    static String devicePath(String id) {
        return PoolDevices.devicePath(id);
    }

    /** Bytes to 512-byte sectors, rounded up to whole 4 KiB blocks. */
    private static long sectors(long bytes) {
        return ((bytes + 4095) / 4096) * 8;
    }
}
