package dev.strata.node.engine.overlay;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Image-style layered volumes, as Docker's overlay storage driver makes containers: a volume is an
 * overlayfs whose lower layers are read-only layers shared with every other volume cut from the
 * same snapshot, and whose upper and work directories are its own.
 * <ul>
 * <li>A snapshot freezes the volume's upper directory as a new read-only layer on top of the
 * volume's chain; the volume stays mounted and in use. The copy keeps overlayfs's whiteouts and
 * opaque-directory xattrs, so deleted files stay deleted; it is reflinked where the filesystem can.
 * <li>A restore is a new, empty upper directory over the snapshot's chain: nothing is copied,
 * whatever the data size. A clone is a snapshot of the source plus a restore.
 * <li>Layers are counted, not stored with a count: a layer lives while any volume's or snapshot's
 * chain names it, and goes to the trash when the last one goes. Counts cannot drift after a crash.
 * </ul>
 * Sizes are recorded but not yet enforced (a loop-backed upper filesystem is the next step).
 */
public final class OverlayEngine implements VolumeEngine {
    public static final String NAME = "overlay";
    private static final String PARTIAL = TreeCopy.PARTIAL;
    private static final String CHAIN = "chain";

    private final Path layers;
    private final Path volumes;
    private final Path snapshots;
    private final Path base;
    private final Trash trash;
    private final Mounter mounter;
    private final TreeCopy copy;

    public OverlayEngine(Path root, Mounter mounter, CommandRunner runner) throws IOException {
        this.layers = Files.createDirectories(root.resolve("layers"));
        this.volumes = Files.createDirectories(root.resolve("volumes"));
        this.snapshots = Files.createDirectories(root.resolve("snapshots"));
        this.base = Files.createDirectories(root.resolve("base")); // overlayfs needs one lower layer
        this.trash = new Trash(root.resolve("trash"));
        this.mounter = mounter;
        this.copy = new TreeCopy(runner);
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
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<String> chain = List.of();
        ContentSource source = volume.source();
        if (source != null && source.kind() == ContentSource.Kind.SNAPSHOT) {
            chain = readChain(snapshots.resolve(source.id()));
        } else if (source != null) {
            // A clone: the source's upper frozen as a layer of the clone's own, then a restore over it.
            String layer = "clone-" + volume.id();
            freeze(volumes.resolve(source.id()), layer);
            chain = prepend(layer, readChain(volumes.resolve(source.id()).resolve(CHAIN)));
        }
        Path partial = volumes.resolve(PARTIAL + volume.id());
        Trash.deleteTree(partial);
        Files.createDirectories(partial.resolve("upper"));
        Files.createDirectories(partial.resolve("work"));
        writeChain(partial.resolve(CHAIN), chain);
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void delete(String volumeId) throws IOException {
        trash.discard(volumes.resolve(PARTIAL + volumeId));
        trash.discard(volumes.resolve(volumeId));
        collectLayers();
    }

    @Override
    public void expand(VolumeRecord volume, long newBytes) {
        // Sizes are not enforced yet, so there is nothing to grow.
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
        Path volume = volumes.resolve(source.id());
        freeze(volume, snapshot.id());
        Path partial = snapshots.resolve(PARTIAL + snapshot.id());
        writeChain(partial, prepend(snapshot.id(), readChain(volume.resolve(CHAIN))));
        Files.move(partial, chainFile, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Copies a volume's upper directory into a new read-only layer (whiteouts and xattrs kept). */
    private void freeze(Path volume, String layer) throws IOException {
        copy.copyOnce(volume.resolve("upper"), layers, layer);
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        Files.deleteIfExists(snapshots.resolve(PARTIAL + snapshotId));
        Files.deleteIfExists(snapshots.resolve(snapshotId));
        collectLayers();
    }

    /** Sends every layer that no volume or snapshot names any more to the trash. */
    private synchronized void collectLayers() throws IOException {
        Set<String> used = new HashSet<>();
        for (Path v : list(volumes)) {
            if (Files.exists(v.resolve(CHAIN))) {
                used.addAll(readChain(v.resolve(CHAIN)));
            }
        }
        for (Path s : list(snapshots)) {
            if (Files.isRegularFile(s)) {
                used.addAll(readChain(s));
            }
        }
        for (Path layer : list(layers)) {
            String name = layer.getFileName().toString();
            if (!used.contains(name) && !name.startsWith(PARTIAL)) {
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
    public void stage(VolumeRecord volume, Path stagingPath, BindOptions options) throws IOException {
        Path dir = volumes.resolve(volume.id());
        StringBuilder lower = new StringBuilder();
        for (String layer : readChain(dir.resolve(CHAIN))) {
            lower.append(layers.resolve(layer)).append(':');
        }
        lower.append(base);
        String data = "lowerdir=" + lower + ",upperdir=" + dir.resolve("upper") + ",workdir=" + dir.resolve("work");
        mounter.mount("overlay", stagingPath, "overlay", options.flags(), data);
    }

    @Override
    public void unstage(VolumeRecord volume, Path stagingPath) throws IOException {
        mounter.unmount(stagingPath);
    }

    @Override
    public VolumeHealth health(VolumeRecord volume) {
        Path upper = volumes.resolve(volume.id()).resolve("upper");
        return Files.isDirectory(upper, LinkOption.NOFOLLOW_LINKS) ? VolumeHealth.OK
                : VolumeHealth.abnormal("upper directory " + upper + " is missing");
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

    private static List<String> readChain(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw CsiException.notFound("layer chain " + file + " is missing");
        }
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
    }

    private static void writeChain(Path file, List<String> chain) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, chain);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static List<Path> list(Path dir) throws IOException {
        List<Path> all = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            entries.forEach(all::add);
        }
        return all;
    }
}
