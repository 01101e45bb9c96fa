package dev.strata.backup;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an overlay snapshot's layers, topmost first, into one {@value Manifest.Entry#LAYER} entry
 * each, naming the backup that stores the layer. A layer is stored once per target, by content, the
 * way an image registry stores layers:
 * <ul>
 * <li>a layer whose key a known backup's layers name, and whose backup the target still has, is
 * not read at all (a node's layers never change once written);
 * <li>any other layer is read as a tree, whiteouts and opaque directories kept, its chunks stored
 * as every backup's are, and named by the ID of its entries (inodes left out: a copy of the layer
 * restored on another node has other inodes and the same content). A layer the target already has
 * under that name is not stored again; its chunks were deduplicated as it was read.
 * </ul>
 */
final class LayerBackup {
    private static final Map<String, String> LAYER_LABELS = Map.of("overlay", "layer");

    private final Chunker chunker;
    private final ChunkStore chunks;
    private final ManifestStore manifests;
    private final ChunkUploader uploader;
    private final Locks.Lock lock;
    private final LayerMarks marks;
    private final List<Manifest.Entry> entries = new ArrayList<>();
    private final Map<String, Manifest> toStore = new HashMap<>();
    private long files;
    private long directories;
    private long symlinks;
    private long skipped;
    private long logicalBytes;
    private long chunkCount;
    private long readBytes;

    LayerBackup(Chunker chunker, ChunkStore chunks, ManifestStore manifests, ChunkUploader uploader,
            Locks.Lock lock, LayerMarks marks) {
        this.chunker = chunker;
        this.chunks = chunks;
        this.manifests = manifests;
        this.uploader = uploader;
        this.lock = lock;
        this.marks = marks;
    }

    /** {@code known}: the layer entries of the backups the caller named, by key. */
    BackupContents run(List<Layer> layers, Map<String, Manifest.Entry> known) throws IOException {
        for (Layer layer : layers) {
            Manifest.Entry reused = known.get(layer.key());
            if (reused != null && manifests.exists(reused.target())) {
                entries.add(layerEntry(layer.key(), reused.size(), reused.target()));
                logicalBytes += reused.size();
            } else {
                read(layer);
            }
        }
        return new BackupContents(entries, files, directories, symlinks, skipped, logicalBytes, chunkCount,
                readBytes, List.copyOf(toStore.values()));
    }

    private void read(Layer layer) throws IOException {
        BackupContents tree = new TreeBackup(chunker, uploader, Map.of(), lock).run(layer.dir(), marks);
        String name = nameOf(chunks, tree.entries());
        if (!toStore.containsKey(name) && !manifests.exists(name)) {
            Instant now = Instant.now();
            toStore.put(name, new Manifest(Manifest.VERSION, name, now, LAYER_LABELS, null, tree.entries(),
                    new BackupSummary(name, now, LAYER_LABELS, null, tree.files(), tree.directories(),
                            tree.symlinks(), tree.skipped(), tree.logicalBytes(), tree.chunks(), 0, 0,
                            tree.readBytes())));
        }
        entries.add(layerEntry(layer.key(), tree.logicalBytes(), name));
        files += tree.files();
        directories += tree.directories();
        symlinks += tree.symlinks();
        skipped += tree.skipped();
        logicalBytes += tree.logicalBytes();
        chunkCount += tree.chunks();
        readBytes += tree.readBytes();
    }

    /**
     * The name a layer's backup has: the prefix and the ID of its content, its entries without
     * inodes and its chunks without where they are stored, keyed as chunk IDs are.
     */
    static String nameOf(ChunkStore chunks, List<Manifest.Entry> layerEntries) throws IOException {
        byte[] json = Json.write(layerEntries.stream().map(e -> new Manifest.Entry(e.path(), e.type(), e.mode(),
                e.uid(), e.gid(), e.mtimeNanos(), e.size(), 0, e.target(),
                e.chunks().stream().map(Manifest.ChunkRef::content).toList(), e.opaque())).toList());
        return ManifestChecks.LAYER_PREFIX + chunks.idOf(json, 0, json.length);
    }

    /** Whether a (checked) layer's manifest holds the content its name says: a restore and a verify ask. */
    static boolean isNamedByContent(ChunkStore chunks, Manifest layer) throws IOException {
        return layer.name().equals(nameOf(chunks, layer.entries()));
    }

    private static Manifest.Entry layerEntry(String key, long size, String layerName) {
        return new Manifest.Entry(key, Manifest.Entry.LAYER, 0, 0, 0, 0, size, 0, layerName, List.of());
    }
}
