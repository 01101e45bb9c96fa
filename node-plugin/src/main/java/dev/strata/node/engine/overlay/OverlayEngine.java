package dev.strata.node.engine.overlay;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * </ul>
 */
public final class OverlayEngine implements VolumeEngine {
    public static final String NAME = "overlay";
    private static final String PARTIAL = TreeCopy.PARTIAL;
    private static final String CHAIN = "chain";
    /** Chains longer than this are flattened; 32 layer paths stay well inside a mount's 4 KiB of options. */
    public static final int FLATTEN_DEPTH = 32;
    private static final Logger LOG = LoggerFactory.getLogger(OverlayEngine.class);

    private final Path layers;
    private final Path volumes;
    private final Path snapshots;
    private final Path base;
    private final Trash trash;
    private final Mounter mounter;
    private final TreeCopy copy;
    private final LayerFreezer freezer;
    private final SizeLimit sizeLimit;
    private final Path flattening;
    private final int flattenDepth;
    /** Chain files are read and written, and layers collected, under this lock (the flattener runs alone). */
    private final Object chains = new Object();
    /** Layers being written whose chain is not yet written: the collector leaves them alone. */
    private final Set<String> building = ConcurrentHashMap.newKeySet();
    private final ExecutorService flattener = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "overlay-flatten");
        t.setDaemon(true);
        return t;
    });

    public OverlayEngine(Path root, Mounter mounter, CommandRunner runner) throws IOException {
        this(root, mounter, runner, SizeLimit.detect(NAME, root, mounter, runner), FLATTEN_DEPTH);
    }

    OverlayEngine(Path root, Mounter mounter, CommandRunner runner, SizeLimit sizeLimit, int flattenDepth)
            throws IOException {
        this.layers = Files.createDirectories(root.resolve("layers"));
        this.volumes = Files.createDirectories(root.resolve("volumes"));
        this.snapshots = Files.createDirectories(root.resolve("snapshots"));
        this.base = Files.createDirectories(root.resolve("base")); // overlayfs needs one lower layer
        // A crash may leave a discarded volume's filesystem mounted in the trash: unmount it before
        // the trash reclaims what is there.
        Path trashDir = root.resolve("trash");
        if (Files.isDirectory(trashDir)) {
            for (Path mount : MountTable.read().under(trashDir.toRealPath())) {
                mounter.detach(mount);
            }
        }
        this.trash = new Trash(root.resolve("trash"));
        this.mounter = mounter;
        this.copy = new TreeCopy(runner);
        this.freezer = new LayerFreezer(runner);
        this.sizeLimit = sizeLimit;
        this.flattening = Files.createDirectories(root.resolve("flatten"));
        this.flattenDepth = flattenDepth;
    }

    /**
     * Reopens every volume's size-limited directory (remounts what a reboot unmounted), drops what a
     * crash left half-built, and flattens what a crash left too deep.
     */
    @Override
    public void start() throws IOException {
        for (Path mount : MountTable.read().under(flattening)) {
            mounter.unmount(mount);
        }
        for (Path v : list(volumes)) {
            if (!v.getFileName().toString().startsWith(PARTIAL)) {
                sizeLimit.open(SizeLimit.Limited.in(v));
            }
        }
        for (Path layer : list(layers)) {
            if (layer.getFileName().toString().startsWith(PARTIAL)) {
                Trash.deleteTree(layer);
            }
        }
        collectLayers();
        for (Path s : list(snapshots)) {
            String name = s.getFileName().toString();
            if (!name.startsWith(PARTIAL) && !name.endsWith(".tmp") && readChain(s).size() > flattenDepth) {
                flattenLater(name);
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
                    building.add(cloneLayer);
                    Path sourceUpper = upper(volumes.resolve(source.id()));
                    if (Files.isDirectory(sourceUpper, LinkOption.NOFOLLOW_LINKS)) {
                        freezer.freeze(sourceUpper, layers, cloneLayer, Optional.empty(), null);
                    } else {
                        Files.createDirectories(layers.resolve(cloneLayer)); // never written to: empty
                    }
                }
                synchronized (chains) {
                    writeChain(partial.resolve(CHAIN), lowerChain(source, cloneLayer));
                    AtomicFile.rename(partial, target);
                }
            } finally {
                building.remove(cloneLayer);
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
            return readChain(snapshots.resolve(source.id()));
        }
        return prepend(cloneLayer, readChain(volumes.resolve(source.id()).resolve(CHAIN)));
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
        collectLayers();
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
        building.add(snapshot.id());
        try {
            frozen = freezer.freeze(upper(volume), layers, snapshot.id(), previous, snapshot.id());
            CrashPoint.reach("overlay.snapshot.frozen");
            synchronized (chains) {
                List<String> below = previous.isPresent()
                        ? readChain(snapshots.resolve(previous.get().snapshotId()))
                        : readChain(volume.resolve(CHAIN));
                chain = prepend(snapshot.id(), below);
                writeChain(chainFile, chain);
            }
        } finally {
            building.remove(snapshot.id());
        }
        LayerFreezer.remember(volume, frozen);
        if (chain.size() > flattenDepth) {
            flattenLater(snapshot.id());
        }
    }

    private static Path upper(Path volumeDir) {
        return volumeDir.resolve("fs").resolve("upper");
    }

    private void flattenLater(String snapshotId) {
        flattener.execute(() -> {
            try {
                flatten(snapshotId);
            } catch (IOException | RuntimeException e) {
                LOG.warn("flattening snapshot {} failed (tried again at the next start): {}", snapshotId, e.toString());
            }
        });
    }

    /**
     * Replaces a snapshot's chain by one layer holding its merged view: the chain mounted read-only,
     * copied, unmounted. Volumes already cut from the snapshot keep the old layers until they go.
     */
    void flatten(String snapshotId) throws IOException {
        Path chainFile = snapshots.resolve(snapshotId);
        List<String> chain;
        synchronized (chains) {
            if (!Files.isRegularFile(chainFile) || (chain = readChain(chainFile)).size() <= 1) {
                return;
            }
        }
        String layer = "flat-" + snapshotId + "-" + chain.size();
        Path view = Files.createDirectories(flattening.resolve(snapshotId));
        building.add(layer);
        try {
            mounter.mount("overlay", view, "overlay", LibC.MS_RDONLY, "lowerdir=" + lowerDirs(chain));
            try {
                copy.copyOnce(view, layers, layer);
            } finally {
                mounter.unmount(view);
                Files.deleteIfExists(view);
            }
            synchronized (chains) {
                if (Files.isRegularFile(chainFile) && readChain(chainFile).equals(chain)) {
                    writeChain(chainFile, List.of(layer));
                }
            }
        } finally {
            building.remove(layer);
        }
        collectLayers();
        LOG.info("snapshot {}: {} layers flattened into {}", snapshotId, chain.size(), layer);
    }

    @Override
    public void close() throws InterruptedException {
        flattener.shutdown();
        flattener.awaitTermination(1, TimeUnit.MINUTES);
        trash.close();
    }

    /** Waits for background flattening to finish (tests, orderly shutdown). */
    void awaitFlattening() throws Exception {
        flattener.submit(() -> { }).get(1, TimeUnit.HOURS);
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        Files.deleteIfExists(snapshots.resolve(PARTIAL + snapshotId));
        Files.deleteIfExists(snapshots.resolve(snapshotId));
        collectLayers();
    }

    /** Sends every layer that no volume or snapshot names any more to the trash. */
    private void collectLayers() throws IOException {
        synchronized (chains) {
            collectUnusedLayers();
        }
    }

    private void collectUnusedLayers() throws IOException {
        Set<String> used = new HashSet<>();
        for (Path v : list(volumes)) {
            if (Files.exists(v.resolve(CHAIN))) {
                used.addAll(readChain(v.resolve(CHAIN)));
            }
        }
        for (Path s : list(snapshots)) {
            if (Files.isRegularFile(s) && !s.getFileName().toString().endsWith(".tmp")) {
                used.addAll(readChain(s));
            }
        }
        for (Path layer : list(layers)) {
            String name = layer.getFileName().toString();
            if (!used.contains(name) && !name.startsWith(PARTIAL) && !building.contains(name)) {
                trash.discard(layer);
            }
        }
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
        String data = "lowerdir=" + lowerDirs(readChain(dir.resolve(CHAIN))) + ",upperdir=" + fs.resolve("upper")
                + ",workdir=" + fs.resolve("work");
        mounter.mount("overlay", mountPoint, "overlay", options.flags(), data);
    }

    /** The lowerdir option: the chain's layers, topmost first, over the empty base. */
    private String lowerDirs(List<String> chain) {
        StringBuilder lower = new StringBuilder();
        for (String layer : chain) {
            lower.append(layers.resolve(layer)).append(':');
        }
        return lower.append(base).toString();
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

    private static List<String> prepend(String layer, List<String> chain) {
        List<String> all = new ArrayList<>(List.of(layer));
        all.addAll(chain);
        return all;
    }

    /** The trash's backlog, the layers on disk and the deepest chain of layers under a volume or snapshot. */
    @Override
    public List<Sample> samples() throws IOException {
        long layerCount;
        int deepest = 0;
        synchronized (chains) {
            layerCount = list(layers).stream().filter(l -> !l.getFileName().toString().startsWith(PARTIAL)).count();
            List<Path> chainFiles = new ArrayList<>();
            for (Path s : list(snapshots)) {
                String name = s.getFileName().toString();
                if (!name.startsWith(PARTIAL) && !name.endsWith(".tmp")) {
                    chainFiles.add(s);
                }
            }
            for (Path v : list(volumes)) {
                chainFiles.add(v.resolve(CHAIN));
            }
            for (Path chain : chainFiles) {
                if (Files.isRegularFile(chain)) {
                    deepest = Math.max(deepest, readChain(chain).size());
                }
            }
        }
        List<Sample> all = new ArrayList<>(Trash.samples(NAME, List.of(trash)));
        all.add(Sample.gauge("strata_overlay_layers", "Read-only layers on disk, shared by the volumes and snapshots "
                + "cut from them", Map.of(), layerCount));
        all.add(Sample.gauge("strata_overlay_deepest_chain", "Layers under the deepest volume or snapshot (chains "
                + "deeper than " + flattenDepth + " are flattened)", Map.of(), deepest));
        return all;
    }

    private static List<String> readChain(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw CsiException.notFound("layer chain " + file + " is missing");
        }
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
    }

    /** Chains are what layers are counted from: each is synced before anything that relies on it. */
    private static void writeChain(Path file, List<String> chain) throws IOException {
        AtomicFile.write(file, (String.join("\n", chain) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static List<Path> list(Path dir) throws IOException {
        List<Path> all = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            entries.forEach(all::add);
        }
        return all;
    }
}
