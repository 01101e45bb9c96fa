package dev.strata.node.engine.overlay;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.LayeredSnapshots;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Image-style layered volumes, as Docker's overlay storage driver makes containers: a volume is an
 * overlayfs whose lower layers are read-only layers shared with every other volume cut from the
 * same snapshot, and whose upper and work directories are its own.
 * <ul>
 * <li>A volume's upper and work directories sit in a directory limited to the volume's size
 * ({@link SizeLimit}: xfs project quotas where the filesystem has them, a loop-backed ext4
 * filesystem otherwise), so writes past the size fail with ENOSPC; expansion raises the limit online.
 * <li>A snapshot freezes the volume's upper directory as a new read-only layer while the volume
 * stays mounted and in use ({@link LayerFreezer}): the first one copies it, later ones copy only
 * what changed and stack on the previous snapshot. Whiteouts and opaque directories are kept, so
 * deleted files stay deleted.
 * <li>A restore is a new, empty upper directory over the snapshot's chain: nothing is copied,
 * whatever the data size. A clone is a freeze of the source plus a restore.
 * <li>Layers are counted, not stored with a count: a layer lives while any volume's or snapshot's
 * chain names it, and goes to the trash when the last one goes. Counts cannot drift after a crash.
 * <li>A snapshot whose chain grows deeper than {@code flattenDepth} is flattened in the background
 * into one layer (the merged view, copied), so mounts stay within overlayfs's limits.
 * <li>A backup off the node stores each layer once by content ({@link LayerTransfer}); a restore
 * keeps each layer under its backup's ID, shared by every volume restored over it.
 * </ul>
 */
public final class OverlayEngine implements VolumeEngine, LayeredSnapshots {
    public static final String NAME = "overlay";
    private static final String PARTIAL = TreeCopy.PARTIAL;
    private static final String CHAIN = LayerChains.CHAIN;
    /** Chains longer than this are flattened; 32 layer paths stay well inside a mount's 4 KiB of options. */
    public static final int FLATTEN_DEPTH = 32;

    private final Path layers;
    private final Path volumes;
    private final Path snapshots;
    private final Trash trash;
    private final Mounter mounter;
    private final LayerFreezer freezer;
    private final SizeLimit sizeLimit;
    private final int flattenDepth;
    private final LayerChains chains;
    private final ChainFlattener flattener;
    private final LayerTransfer transfer;

    public OverlayEngine(Path root, Mounter mounter, CommandRunner runner) throws IOException {
        this(root, mounter, runner, SizeLimit.detect(NAME, root, mounter, runner), FLATTEN_DEPTH);
    }

    OverlayEngine(Path root, Mounter mounter, CommandRunner runner, SizeLimit sizeLimit, int flattenDepth)
            throws IOException {
        this.layers = Files.createDirectories(root.resolve("layers"));
        this.volumes = Files.createDirectories(root.resolve("volumes"));
        this.snapshots = Files.createDirectories(root.resolve("snapshots"));
        Path base = Files.createDirectories(root.resolve("base")); // overlayfs needs one lower layer
        // A crash may leave a discarded volume's filesystem mounted in the trash: unmount it before
        // the trash reclaims what is there.
        mounter.detachAllUnder(root.resolve("trash"));
        this.trash = new Trash(root.resolve("trash"));
        this.chains = new LayerChains(layers, volumes, snapshots, base, trash);
        this.mounter = mounter;
        this.freezer = new LayerFreezer(runner);
        this.sizeLimit = sizeLimit;
        this.flattener = new ChainFlattener(snapshots, layers, Files.createDirectories(root.resolve("flatten")), chains,
                mounter, new TreeCopy(runner));
        this.flattenDepth = flattenDepth;
        this.transfer = new LayerTransfer(layers, volumes, snapshots, chains);
    }

    /**
     * Reopens every volume's size-limited directory (remounts what a reboot unmounted, and finishes
     * its upper and work directories), drops what a crash left half-built, and flattens what a crash
     * left too deep.
     */
    @Override
    public void start() throws IOException {
        flattener.recover();
        for (Path v : LayerChains.list(volumes)) {
            if (!v.getFileName().toString().startsWith(PARTIAL)) {
                sizeLimit.open(SizeLimit.Limited.in(v));
                if (sizeLimit.holds(v)) {
                    // A first stage cut short (a power cut before the new filesystem's journal took the
                    // directories) leaves the filesystem without them; finished here, not at the next stage,
                    // so that the volume reads as healthy meanwhile.
                    makeUpperAndWork(v.resolve(SizeLimit.FS));
                }
            }
        }
        for (Path layer : LayerChains.list(layers)) {
            if (layer.getFileName().toString().startsWith(PARTIAL)) {
                Trash.deleteTree(layer);
            }
        }
        chains.collect();
        for (Path s : chains.snapshotChains()) {
            if (LayerChains.read(s).size() > flattenDepth) {
                flattener.flattenLater(s.getFileName().toString());
            }
        }
    }

    @Override
    public EngineTraits traits() {
        return new EngineTraits(NAME, EnumSet.of(AccessType.MOUNT),
                EnumSet.of(AccessMode.SINGLE_NODE_WRITER, AccessMode.SINGLE_NODE_READER_ONLY,
                        AccessMode.SINGLE_NODE_SINGLE_WRITER, AccessMode.SINGLE_NODE_MULTI_WRITER),
                Set.of(""), Set.of(), Set.of(), false);
    }

    @Override
    public void validateParameters(String field, Map<String, String> parameters) {
        // No parameters of its own.
    }

    @Override
    public void create(VolumeRecord volume) throws IOException {
        Path target = volumes.resolve(volume.id());
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            Path partial = volumes.resolve(PARTIAL + volume.id());
            Trash.deleteTree(partial);
            Files.createDirectories(partial);
            ContentSource source = volume.source();
            String cloneLayer = "clone-" + volume.id();
            try {
                if (source != null && source.kind() == ContentSource.Kind.VOLUME) {
                    // A clone: the source's upper frozen as a layer of the clone's own, then a restore over it.
                    chains.building(cloneLayer);
                    Path sourceUpper = upper(volumes.resolve(source.id()));
                    if (Files.isDirectory(sourceUpper, LinkOption.NOFOLLOW_LINKS)) {
                        freezer.freeze(sourceUpper, layers, cloneLayer, Optional.empty(), null);
                    } else {
                        Files.createDirectories(layers.resolve(cloneLayer)); // never written to: empty
                    }
                }
                chains.whileStill(() -> {
                    LayerChains.write(partial.resolve(CHAIN), lowerChain(source, cloneLayer));
                    AtomicFile.rename(partial, target);
                    return null;
                });
            } finally {
                chains.built(cloneLayer);
            }
        }
        CrashPoint.reach("overlay.create.chained");
        // The size-limited directory (a filesystem to make, with the loop mechanism) is made when the
        // volume is first staged or snapshotted, so that a create or restore costs the same whatever
        // its size: a directory and a chain file.
    }

    /** Makes the volume's size-limited upper directory unless it is there; every user of it calls this. */
    private Path storage(VolumeRecord volume) throws IOException {
        Path dir = volumes.resolve(volume.id());
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw CsiException.notFound("the storage of volume " + volume.id() + " is missing");
        }
        sizeLimit.create(SizeLimit.Limited.in(dir), volume.id(), volume.capacityBytes());
        makeUpperAndWork(dir.resolve(SizeLimit.FS));
        return dir;
    }

    /**
     * Makes {@code fs/upper} and {@code fs/work} unless they are there. The upper directory's root is
     * the volume's root as pods see it: {@code 0755}, as Docker makes a new volume, stated rather than
     * left to the umask, and not reset later (a pod may have changed it).
     */
    private static void makeUpperAndWork(Path fs) throws IOException {
        Path upper = fs.resolve("upper");
        if (!Files.isDirectory(upper, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(upper);
            Posix.chmod(upper, 0755);
        }
        Files.createDirectories(fs.resolve("work"));
    }

    /** The layers under a new volume: none, its snapshot's, or for a clone its frozen source's. */
    private List<String> lowerChain(ContentSource source, String cloneLayer) throws IOException {
        if (source == null) {
            return List.of();
        }
        if (source.kind() == ContentSource.Kind.SNAPSHOT) {
            return LayerChains.read(snapshots.resolve(source.id()));
        }
        return LayerChains.prepend(cloneLayer, LayerChains.read(volumes.resolve(source.id()).resolve(CHAIN)));
    }

    @Override
    public Map<String, String> attributes(VolumeRecord volume) {
        return Map.of(SizeLimit.ATTRIBUTE, sizeLimit.name());
    }

    @Override
    public void delete(String volumeId) throws IOException {
        for (Path dir : List.of(volumes.resolve(PARTIAL + volumeId), volumes.resolve(volumeId))) {
            // Renamed into the trash with its filesystem still mounted (the mount moves along); the
            // unmount, which writes back what the volume left dirty, happens on the trash's thread.
            trash.discard(dir, d -> sizeLimit.release(SizeLimit.Limited.in(d)));
        }
        chains.collect();
    }

    @Override
    public void expand(VolumeRecord volume, long newBytes) throws IOException {
        sizeLimit.expand(SizeLimit.Limited.in(volumes.resolve(volume.id())), newBytes);
    }

    @Override
    public void modify(VolumeRecord volume, Map<String, String> parameters) {
        // No mutable parameters.
    }

    @Override
    public void snapshot(SnapshotRecord snapshot, VolumeRecord source) throws IOException {
        Path chainFile = snapshots.resolve(snapshot.id());
        if (Files.exists(chainFile)) {
            return;
        }
        Path volume = storage(source);
        // Stack on the volume's previous snapshot when it still exists: only the change is copied.
        Optional<LayerFreezer.Frozen> previous = LayerFreezer.recall(volume)
                .filter(f -> Files.isRegularFile(snapshots.resolve(f.snapshotId())));
        List<String> chain;
        LayerFreezer.Frozen frozen;
        chains.building(snapshot.id());
        try {
            frozen = freezer.freeze(upper(volume), layers, snapshot.id(), previous, snapshot.id());
            CrashPoint.reach("overlay.snapshot.frozen");
            chain = chains.whileStill(() -> {
                List<String> below = previous.isPresent()
                        ? LayerChains.read(snapshots.resolve(previous.get().snapshotId()))
                        : LayerChains.read(volume.resolve(CHAIN));
                List<String> stacked = LayerChains.prepend(snapshot.id(), below);
                LayerChains.write(chainFile, stacked);
                return stacked;
            });
        } finally {
            chains.built(snapshot.id());
        }
        LayerFreezer.remember(volume, frozen);
        if (chain.size() > flattenDepth) {
            flattener.flattenLater(snapshot.id());
        }
    }

    private static Path upper(Path volumeDir) {
        return volumeDir.resolve("fs").resolve("upper");
    }

    @Override
    public void close() throws InterruptedException {
        flattener.close();
        trash.close();
    }

    /** Waits for background flattening to finish (tests, orderly shutdown). */
    void awaitFlattening() throws Exception {
        flattener.await();
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        Files.deleteIfExists(snapshots.resolve(PARTIAL + snapshotId));
        Files.deleteIfExists(snapshots.resolve(snapshotId));
        chains.collect();
    }

    @Override
    public <T> T readLayers(String snapshotId, LayersRead<T> read) throws IOException {
        return transfer.readLayers(snapshotId, read);
    }

    @Override
    public boolean isOpaque(Path directory) throws IOException {
        return LayerTransfer.isOpaque(directory);
    }

    @Override
    public void makeWhiteout(Path directory, String name) throws IOException {
        LayerTransfer.makeWhiteout(directory, name);
    }

    @Override
    public void makeOpaque(Path directory) throws IOException {
        LayerTransfer.makeOpaque(directory);
    }

    @Override
    public void fillVolume(VolumeRecord volume, List<String> layerIds, LayerFill fill) throws IOException {
        transfer.fillVolume(volume, layerIds, fill);
    }

    @Override
    public Set<String> storedVolumeIds() throws IOException {
        return TreeCopy.names(volumes);
    }

    @Override
    public Set<String> storedSnapshotIds() throws IOException {
        return TreeCopy.names(snapshots);
    }

    @Override
    public void stage(VolumeRecord volume, Path mountPoint, BindOptions options) throws IOException {
        Path dir = storage(volume);
        Path fs = dir.resolve("fs");
        String data = "lowerdir=" + chains.lowerDirs(LayerChains.read(dir.resolve(CHAIN))) + ",upperdir=" + fs.resolve("upper")
                + ",workdir=" + fs.resolve("work");
        mounter.mount("overlay", mountPoint, "overlay", options.flags(), data);
    }

    @Override
    public void unstage(VolumeRecord volume, Path mountPoint) throws IOException {
        mounter.unmount(mountPoint);
    }

    @Override
    public VolumeHealth health(VolumeRecord volume) {
        Path dir = volumes.resolve(volume.id());
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return VolumeHealth.abnormal("volume directory " + dir + " is missing");
        }
        Path upper = upper(dir);
        return !Files.exists(dir.resolve("fs")) || Files.isDirectory(upper, LinkOption.NOFOLLOW_LINKS)
                ? VolumeHealth.OK : VolumeHealth.abnormal("upper directory " + upper + " is missing");
    }

    @Override
    public Capacity capacity() throws IOException {
        LibC.StatVfs st = LibC.statvfs(volumes);
        return new Capacity(st.availableBytes(), st.totalBytes(), 0);
    }

    /** The trash's backlog, the layers on disk and the deepest chain of layers under a volume or snapshot. */
    @Override
    public List<Sample> samples() throws IOException {
        LayerChains.Counts counts = chains.counts();
        List<Sample> all = new ArrayList<>(Trash.samples(NAME, List.of(trash)));
        all.add(Sample.gauge("strata_overlay_layers", "Read-only layers on disk, shared by the volumes and snapshots "
                + "cut from them", Map.of(), counts.layers()));
        all.add(Sample.gauge("strata_overlay_deepest_chain", "Layers under the deepest volume or snapshot (chains "
                + "deeper than " + flattenDepth + " are flattened)", Map.of(), counts.deepest()));
        return all;
    }
}
