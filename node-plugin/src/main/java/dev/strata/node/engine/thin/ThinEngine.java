package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.PoolUsage;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.ChangedBlockTracking;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.Mounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
public final class ThinEngine implements VolumeEngine, ChangedBlockTracking {
    public static final String NAME = "thin";
    /** The filesystem, as external-provisioner passes a StorageClass's csi.storage.k8s.io/fstype. */
    public static final String FS_TYPE_PARAMETER = dev.strata.common.Capabilities.FS_TYPE_PARAMETER;
    public static final String MKFS_OPTIONS_PARAMETER = "mkfsOptions";
    private static final String DM_PREFIX = "strata-";
    private static final Logger LOG = LoggerFactory.getLogger(ThinEngine.class);

    private final ThinPool pool;
    private final Dmsetup dm;
    private final ThinDevices volumes;
    private final ThinDevices snapshots;
    private final Mounter mounter;
    private final CommandRunner runner;
    private final ThinPoolMonitor monitor;
    private final ThinFilesystem filesystem;

    public ThinEngine(Path root, ThinPoolConfig config, Mounter mounter, CommandRunner runner) throws IOException {
        this.dm = new Dmsetup(runner);
        this.pool = new ThinPool(config, dm, runner);
        Files.createDirectories(root);
        this.volumes = new ThinDevices(root.resolve("volumes"), root.resolve("next-thin-id"));
        this.snapshots = new ThinDevices(root.resolve("snapshots"), root.resolve("next-thin-id"));
        this.mounter = mounter;
        this.runner = runner;
        this.monitor = new ThinPoolMonitor(pool);
        this.filesystem = new ThinFilesystem(runner, mounter);
    }

    @Override
    public EngineTraits traits() {
        return new EngineTraits(NAME, EnumSet.of(AccessType.MOUNT, AccessType.BLOCK),
                EnumSet.of(AccessMode.SINGLE_NODE_WRITER, AccessMode.SINGLE_NODE_READER_ONLY,
                        AccessMode.SINGLE_NODE_SINGLE_WRITER, AccessMode.SINGLE_NODE_MULTI_WRITER),
                Set.of("", "ext4", "xfs"), Set.of(FS_TYPE_PARAMETER, MKFS_OPTIONS_PARAMETER), Set.of(), false);
    }

    @Override
    public void validateParameters(String field, Map<String, String> parameters) {
        String fs = parameters.get(FS_TYPE_PARAMETER);
        if (fs != null && !fs.equals("ext4") && !fs.equals("xfs")) {
            throw CsiException.invalidArgument(field + "." + FS_TYPE_PARAMETER, "\"" + fs
                    + "\" is not a filesystem the thin engine makes (ext4, xfs)");
        }
        MkfsOptions.parse(field + "." + MKFS_OPTIONS_PARAMETER, fsType(parameters),
                parameters.get(MKFS_OPTIONS_PARAMETER));
    }

    /**
     * Activates the pool, undoes what a crash left half made, forgets devices the pool no longer has
     * (a delete cut short after the pool's part), activates the volumes, and drops dm devices that
     * belong to no volume (and their pool devices, when no note names them). Every pool device has a
     * note: the note is written, synced, before the pool is asked to make the device.
     */
    @Override
    public void start() throws IOException {
        pool.activate();
        for (ThinDevices notes : List.of(volumes, snapshots)) {
            for (Map.Entry<String, ThinDevice> e : notes.all().entrySet()) {
                if (!e.getValue().ready()) {
                    LOG.info("thin device {} of {} was left half made; removing it", e.getValue().thinId(), e.getKey());
                    discard(e.getKey(), e.getValue(), notes);
                }
            }
        }
        Set<Long> inPool = pool.deviceIds();
        Set<Long> noted = new java.util.HashSet<>();
        for (ThinDevices notes : List.of(volumes, snapshots)) {
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
        Map<String, ThinDevice> live = volumes.all();
        for (Map.Entry<String, ThinDevice> e : live.entrySet()) {
            activate(e.getKey(), e.getValue());
        }
        for (String name : dm.list("thin")) {
            if (name.startsWith(DM_PREFIX) && !live.containsKey(name.substring(DM_PREFIX.length()))) {
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
            activate(volume.id(), existing.get());
            return;
        }
        if (existing.isPresent()) {
            discard(volume.id(), existing.get(), volumes); // a create cut short: start again
        }
        long sectors = sectors(volume.capacityBytes());
        Capacity capacity = capacity();
        if (volume.capacityBytes() > capacity.availableBytes()) {
            throw CsiException.resourceExhausted("the thin pool can give " + capacity.availableBytes()
                    + " more bytes of volumes (over-commit " + pool.config().overcommit() + "), not "
                    + volume.capacityBytes());
        }
        String fs = volume.accessType() == AccessType.BLOCK ? "" : fsType(volume.parameters());
        ThinDevice device = new ThinDevice(volumes.nextThinId(), sectors, fs, false);
        volumes.put(volume.id(), device);
        ContentSource source = volume.source();
        long sourceSectors = 0;
        if (source == null) {
            pool.message("create_thin " + device.thinId());
        } else if (source.kind() == ContentSource.Kind.SNAPSHOT) {
            ThinDevice origin = snapshots.get(source.id()).orElseThrow(() -> CsiException.notFound("snapshot "
                    + source.id() + " has no thin device"));
            pool.message("create_snap " + device.thinId() + " " + origin.thinId());
            sourceSectors = origin.sectors();
        } else {
            ThinDevice origin = volumes.get(source.id()).orElseThrow(() -> CsiException.notFound("volume "
                    + source.id() + " has no thin device"));
            snap(List.of(dmName(source.id())), () -> pool.message("create_snap " + device.thinId() + " "
                    + origin.thinId()));
            sourceSectors = origin.sectors();
        }
        pool.commit(); // the pool's metadata holds the device before anything says it is there
        activate(volume.id(), device);
        if (!device.block()) {
            if (source == null) {
                filesystem.make(devicePath(volume.id()), fs, volume.parameters().getOrDefault(MKFS_OPTIONS_PARAMETER,
                        ""));
            } else if (sectors > sourceSectors) {
                filesystem.grow(devicePath(volume.id()), fs);
            }
        }
        volumes.put(volume.id(), device.asReady());
    }

    @Override
    public void delete(String volumeId) throws IOException {
        var device = volumes.get(volumeId);
        if (device.isPresent()) {
            discard(volumeId, device.get(), volumes);
        }
    }

    /** Removes a device: its dm device (after discarding its blocks), its pool device, its note. */
    private void discard(String id, ThinDevice device, ThinDevices notes) throws IOException {
        String name = dmName(id);
        if (dm.exists(name)) {
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

    @Override
    public void expand(VolumeRecord volume, long newBytes) throws IOException {
        ThinDevice device = require(volume.id());
        long sectors = sectors(newBytes);
        if (sectors <= device.sectors()) {
            return;
        }
        dm.reload(dmName(volume.id()), table(device.thinId(), sectors));
        volumes.put(volume.id(), device.withSectors(sectors));
        if (device.block()) {
            return;
        }
        filesystem.grow(devicePath(volume.id()), device.fsType());
    }

    @Override
    public void modify(VolumeRecord volume, Map<String, String> parameters) {
        // No mutable parameters.
    }

    @Override
    public void snapshot(SnapshotRecord snapshot, VolumeRecord source) throws IOException {
        snapshotGroup(List.of(snapshot), List.of(source));
    }

    /**
     * Suspends every origin (dm flushes what is in flight), snaps each, resumes them: the snapshots
     * hold the volumes as of one instant, as a power cut would have left them.
     */
    @Override
    public void snapshotGroup(List<SnapshotRecord> group, List<VolumeRecord> sources) throws IOException {
        List<String> origins = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            String snapId = group.get(i).id();
            if (snapshots.get(snapId).filter(ThinDevice::ready).isPresent()) {
                continue;
            }
            var half = snapshots.get(snapId);
            if (half.isPresent()) {
                discard(snapId, half.get(), snapshots); // cut short before: start again
            }
            ThinDevice origin = require(sources.get(i).id());
            ThinDevice snap = new ThinDevice(snapshots.nextThinId(), origin.sectors(), origin.fsType(), false);
            snapshots.put(snapId, snap);
            origins.add(dmName(sources.get(i).id()));
            messages.add("create_snap " + snap.thinId() + " " + origin.thinId());
        }
        if (messages.isEmpty()) {
            return;
        }
        snap(origins, () -> {
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

    private interface PoolStep {
        void run() throws IOException;
    }

    /** Runs {@code step} with the active origins suspended, and always resumes them. */
    private void snap(List<String> origins, PoolStep step) throws IOException {
        List<String> suspended = new ArrayList<>();
        try {
            for (String origin : origins) {
                if (dm.exists(origin)) {
                    dm.suspend(origin);
                    suspended.add(origin);
                }
            }
            step.run();
        } finally {
            for (String origin : suspended) {
                dm.resume(origin);
            }
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        var device = snapshots.get(snapshotId);
        if (device.isPresent()) {
            discard(snapshotId, device.get(), snapshots);
        }
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
        ThinDevice device = require(volume.id());
        activate(volume.id(), device);
        if (device.block()) {
            // Nothing to mount: the staging directory is bound onto itself so that it is recorded
            // as staged like any other; NodePublish binds the device node into the pod.
            mounter.bind(mountPoint, mountPoint, BindOptions.NONE);
        } else {
            mounter.mount(devicePath(volume.id()), mountPoint, device.fsType(), options.flags(), null);
        }
    }

    @Override
    public Path publishSource(VolumeRecord volume, Path stageMountPoint) {
        return volume.accessType() == AccessType.BLOCK ? Path.of(devicePath(volume.id())) : stageMountPoint;
    }

    @Override
    public void unstage(VolumeRecord volume, Path mountPoint) throws IOException {
        mounter.unmount(mountPoint);
    }

    @Override
    public Map<String, String> attributes(VolumeRecord volume) throws IOException {
        ThinDevice device = require(volume.id());
        return Map.of("device", devicePath(volume.id()), "thinId", Long.toString(device.thinId()),
                "fsType", device.block() ? "block" : device.fsType());
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

    /**
     * What new volumes may still take: the data device's size times the over-commit ratio, less the
     * sizes of the volumes there are, and never more than the free data blocks times the ratio.
     */
    @Override
    public Capacity capacity() throws IOException {
        DmPoolStatus status = pool.status();
        long chunk = pool.config().chunkBytes();
        double ratio = pool.config().overcommit();
        long promised = 0;
        for (ThinDevice d : volumes.all().values()) {
            promised += d.sectors() * 512;
        }
        long byRatio = (long) (status.totalDataBlocks() * chunk * ratio) - promised;
        long byFree = (long) ((status.totalDataBlocks() - status.usedDataBlocks()) * chunk * ratio);
        long available = status.writable() && !monitor.refusesNewVolumes(status)
                ? Math.max(0, Math.min(byRatio, byFree)) : 0;
        // The largest volume the pool could ever hold is its size times the ratio: a request above
        // that is out of range; one that only exceeds what is free now is a lack of capacity
        // (RESOURCE_EXHAUSTED from create), which the CO may retry elsewhere or later.
        return new Capacity(available, (long) (status.totalDataBlocks() * chunk * ratio), 1L << 20);
    }

    @Override
    public List<PoolUsage> pools() throws IOException {
        DmPoolStatus status = pool.status();
        long chunk = pool.config().chunkBytes();
        // Thin-pool metadata blocks are 4 KiB whatever the data chunk size.
        return List.of(new PoolUsage(ThinPool.NAME, status.totalDataBlocks() * chunk, status.usedDataBlocks() * chunk,
                status.totalMetadataBlocks() * 4096, status.usedMetadataBlocks() * 4096, status.problem()));
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
        ThinDevice snap = requireSnapshot(snapshotId);
        String xml = pool.withMetadataSnapshot(meta -> check(runner.run("thin_dump", "-m", "--dev-id",
                Long.toString(snap.thinId()), meta)).stdout());
        return blockMap(snap, BlockRanges.mapped(xml));
    }

    /** From thin_delta of the pool's metadata snapshot: the blocks that differ between the two devices. */
    @Override
    public BlockMap changed(String baseSnapshotId, String targetSnapshotId) throws IOException {
        ThinDevice base = requireSnapshot(baseSnapshotId);
        ThinDevice target = requireSnapshot(targetSnapshotId);
        String xml = pool.withMetadataSnapshot(meta -> check(runner.run("thin_delta", "-m", "--snap1",
                Long.toString(base.thinId()), "--snap2", Long.toString(target.thinId()), meta)).stdout());
        return blockMap(target, BlockRanges.changed(xml));
    }

    private BlockMap blockMap(ThinDevice device, List<BlockRanges.Range> ranges) {
        long chunk = pool.config().chunkBytes();
        long size = device.sectors() * 512;
        List<Extent> extents = new ArrayList<>();
        for (BlockRanges.Range r : ranges) {
            long offset = r.begin() * chunk;
            if (offset < size) {
                extents.add(new Extent(offset, Math.min(r.length() * chunk, size - offset)));
            }
        }
        return new BlockMap(size, extents);
    }

    private ThinDevice requireSnapshot(String snapshotId) throws IOException {
        return snapshots.get(snapshotId).filter(ThinDevice::ready).orElseThrow(() -> CsiException.notFound(
                "snapshot " + snapshotId + " has no thin device"));
    }

    private void activate(String id, ThinDevice device) throws IOException {
        if (!dm.exists(dmName(id))) {
            dm.create(dmName(id), table(device.thinId(), device.sectors()));
        }
    }

    private String table(long thinId, long sectors) {
        return "0 " + sectors + " thin " + pool.device() + " " + thinId;
    }

    private ThinDevice require(String volumeId) throws IOException {
        return volumes.get(volumeId).orElseThrow(() -> CsiException.notFound("volume " + volumeId
                + " has no thin device"));
    }

    static String fsType(Map<String, String> parameters) {
        String fs = parameters.getOrDefault(FS_TYPE_PARAMETER, "");
        return fs.isEmpty() ? "ext4" : fs;
    }

    static String dmName(String id) {
        return DM_PREFIX + id;
    }

    static String devicePath(String id) {
        return "/dev/mapper/" + dmName(id);
    }

    /** Bytes to 512-byte sectors, rounded up to whole 4 KiB blocks. */
    private static long sectors(long bytes) {
        return ((bytes + 4095) / 4096) * 8;
    }

    static CommandRunner.Result check(CommandRunner.Result r) throws IOException {
        if (!r.ok()) {
            throw new IOException(new CommandRunner.CommandFailedException(r).getMessage());
        }
        return r;
    }
}
