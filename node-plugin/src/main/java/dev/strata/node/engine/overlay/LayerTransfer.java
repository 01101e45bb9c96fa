package dev.strata.node.engine.overlay;

import dev.strata.common.CsiException;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.LayeredSnapshots;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.sys.FileHandle;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The overlay engine's side of backups off the node ({@link LayeredSnapshots}): a snapshot's layers
 * are kept from the collector (and a flatten) while a backup reads them; a restored layer is kept
 * under its backup's ID, which names its content, so every volume restored from backups that name
 * it shares the one copy; overlayfs's marks are read and made through handles.
 */
final class LayerTransfer {
    /** A layer backup's ID: its content's (keyed) SHA-256; nothing else becomes a local layer's name. */
    private static final Pattern LAYER_ID = Pattern.compile("layer-[0-9a-f]{64}");
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final byte[] OPAQUE_VALUE = "y".getBytes(StandardCharsets.UTF_8);

    private final Path layers;
    private final Path volumes;
    private final Path snapshots;
    private final LayerChains chains;

    LayerTransfer(Path layers, Path volumes, Path snapshots, LayerChains chains) {
        this.layers = layers;
        this.volumes = volumes;
        this.snapshots = snapshots;
        this.chains = chains;
    }

    /**
     * The key of a layer is its name and its directory's inode: a name a deleted snapshot had may
     * come back as a new layer, which gets a new directory.
     */
    <T> T readLayers(String snapshotId, LayeredSnapshots.LayersRead<T> read) throws IOException {
        Path chainFile = snapshots.resolve(snapshotId);
        List<String> chain = chains.whileStill(() -> {
            List<String> names = LayerChains.read(chainFile);
            names.forEach(chains::building);
            return names;
        });
        try {
            List<LayeredSnapshots.SnapshotLayer> found = new ArrayList<>();
            for (String name : chain) {
                Path dir = layers.resolve(name);
                found.add(new LayeredSnapshots.SnapshotLayer(name + "@" + Files.getAttribute(dir, "unix:ino", NOFOLLOW),
                        dir));
            }
            return read.with(found);
        } finally {
            chain.forEach(chains::built);
        }
    }

    static boolean isOpaque(Path directory) throws IOException {
        try (FileHandle dir = FileHandle.open(directory); FileHandle readable = dir.readable()) {
            return readable.hasXattr(LayerFreezer.OPAQUE);
        }
    }

    static void makeWhiteout(Path directory, String name) throws IOException {
        try (FileHandle dir = FileHandle.open(directory)) {
            dir.whiteout(name);
        }
    }

    static void makeOpaque(Path directory) throws IOException {
        try (FileHandle dir = FileHandle.open(directory); FileHandle readable = dir.readable()) {
            readable.setXattr(LayerFreezer.OPAQUE, OPAQUE_VALUE);
        }
    }

    void fillVolume(VolumeRecord volume, List<String> layerIds, LayeredSnapshots.LayerFill fill) throws IOException {
        for (String id : layerIds) {
            if (!LAYER_ID.matcher(id).matches()) {
                throw new CsiException(Status.Code.DATA_LOSS, "the backup names a layer " + id + " that is no layer "
                        + "backup's ID");
            }
        }
        Path volumeDir = volumes.resolve(volume.id());
        if (Files.exists(volumeDir.resolve(SizeLimit.FS), NOFOLLOW)) {
            throw CsiException.alreadyExists("volume " + volume.id() + " holds data already: a restore never merges "
                    + "into data it did not make");
        }
        layerIds.forEach(chains::building);
        try {
            for (String id : new LinkedHashSet<>(layerIds)) {
                ensureLayer(id, volume.id(), fill);
            }
            chains.whileStill(() -> {
                LayerChains.write(volumeDir.resolve(LayerChains.CHAIN), layerIds);
                return null;
            });
        } finally {
            layerIds.forEach(chains::built);
        }
    }

    /** Restores one layer unless the node has it: into a directory of this restore's own, kept once durable. */
    private void ensureLayer(String id, String volumeId, LayeredSnapshots.LayerFill fill) throws IOException {
        Path layer = layers.resolve(id);
        if (Files.isDirectory(layer, NOFOLLOW)) {
            return;
        }
        Path partial = layers.resolve(TreeCopy.PARTIAL + id + "-" + volumeId);
        Trash.deleteTree(partial);
        Files.createDirectory(partial);
        try {
            fill.into(id, partial);
            FileHandle.syncFilesystem(partial);
            chains.whileStill(() -> {
                if (!Files.isDirectory(layer, NOFOLLOW)) {
                    AtomicFile.rename(partial, layer);
                }
                return null;
            });
        } finally {
            Trash.deleteTree(partial); // there only if the restore failed or another kept the layer first
        }
    }
}
