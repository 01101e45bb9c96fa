package dev.strata.backup;

import dev.strata.common.CrashPoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one backup, of a tree, a device image or an overlay snapshot's layers: chunks first, the
 * manifest last (after the manifests of the layers it names), so a backup exists only once it is
 * complete and an interrupted one leaves only orphan chunks (and layers) for a prune to collect. A
 * name that already exists returns that backup's summary, so a retried call is harmless.
 */
final class BackupWriter {
    private static final Logger LOG = LoggerFactory.getLogger(BackupWriter.class);

    private final ChunkStore chunks;
    private final ManifestStore manifests;
    private final IndexStore indexes;
    private final Chunker chunker;
    private final Locks locks;
    private final ConfigCheck configKept;

    BackupWriter(ChunkStore chunks, ManifestStore manifests, IndexStore indexes, Chunker chunker, Locks locks,
            ConfigCheck configKept) {
        this.chunks = chunks;
        this.manifests = manifests;
        this.indexes = indexes;
        this.chunker = chunker;
        this.locks = locks;
        this.configKept = configKept;
    }

    /**
     * Throws unless the target still keeps the config whose keys sealed the backup
     * ({@link RepositoryOpener#checkKept}).
     */
    @FunctionalInterface
    interface ConfigCheck {
        void run() throws IOException;
    }

    /** Reads what a backup holds, storing its chunks through {@code uploader} as it goes. */
    @FunctionalInterface
    interface ContentReader {
        /** {@code parent}: the parent backup's manifest, null without one. */
        BackupContents read(ChunkUploader uploader, Manifest parent, Locks.Lock lock) throws IOException;
    }

    /** Backs up a directory tree; files unchanged since the parent are not read again. */
    BackupSummary backupTree(Path tree, String name, Map<String, String> labels, String parent) throws IOException {
        if (tree == null || !Files.isDirectory(tree, LinkOption.NOFOLLOW_LINKS)) {
            throw new BackupException(BackupException.Kind.INVALID, "the tree to back up, " + tree + ", is not a directory");
        }
        return backup(tree.toString(), name, labels, parent, false, (uploader, parentManifest, lock) ->
                new TreeBackup(chunker, uploader, entriesByPath(parentManifest), lock).run(tree, null));
    }

    /** Backs up a device image; only the blocks the plan names are read. */
    BackupSummary backupImage(BlockImage image, ImagePlan plan, String name, Map<String, String> labels)
            throws IOException {
        return backup("a device image", name, labels, plan.parent(), true, (uploader, parentManifest, lock) ->
                new ImageBackup(uploader, lock, chunker.maxChunk()).run(image, plan, parentManifest));
    }

    /**
     * Backs up an overlay snapshot's layers, topmost first, each stored once by content; a layer
     * whose key the layers of a {@code known} backup name is not read again.
     */
    BackupSummary backupLayers(List<Layer> layers, String name, Map<String, String> labels, List<String> known,
            LayerMarks marks) throws IOException {
        if (layers.isEmpty()) {
            throw new BackupException(BackupException.Kind.INVALID, "an overlay snapshot to back up has no layers");
        }
        for (String k : known) {
            BackupNames.check(k, "known backup name");
        }
        return backup("an overlay snapshot's " + layers.size() + " layers", name, labels, null, false,
                (uploader, parentManifest, lock) -> new LayerBackup(chunker, chunks, manifests, uploader, lock, marks)
                        .run(layers, knownLayers(known)));
    }

    /** The layer entries of the known backups by key; read under the backup lock, so their layers stay. */
    private Map<String, Manifest.Entry> knownLayers(List<String> known) throws IOException {
        Map<String, Manifest.Entry> byKey = new HashMap<>();
        for (String name : known) {
            Manifest manifest;
            try {
                manifest = manifests.read(name);
            } catch (BackupException e) {
                if (e.kind() == BackupException.Kind.NOT_FOUND) {
                    continue; // removed meanwhile: its layers are read again, which is only slower
                }
                throw e;
            }
            if (ManifestChecks.isLayered(manifest)) {
                ManifestChecks.checkLayered(manifest);
                manifest.entries().forEach(layer -> byKey.putIfAbsent(layer.path(), layer));
            }
        }
        return byKey;
    }

    /**
     * {@code parentChunksOnly}: with a parent, the backup knows only the parent's chunks
     * ({@link ChunkUploader#knowingTheParent}); otherwise every chunk of the target.
     */
    private BackupSummary backup(String what, String name, Map<String, String> labels, String parent,
            boolean parentChunksOnly, ContentReader reader) throws IOException {
        BackupNames.check(name, "backup name");
        if (ManifestChecks.isReservedName(name)) {
            throw new BackupException(BackupException.Kind.INVALID, "invalid backup name '" + name + "': names "
                    + "starting with " + ManifestChecks.LAYER_PREFIX + " are kept for overlay layers");
        }
        Map<String, String> checkedLabels = checkLabels(labels);
        if (parent != null) {
            BackupNames.check(parent, "parent backup name");
        }
        if (manifests.exists(name)) {
            return manifests.read(name).summary();
        }
        Instant createdAt = Instant.now();
        try (Locks.Lock lock = locks.acquireBackup()) {
            // read under the lock: no prune runs now, so the chunks the parent references stay
            Manifest parentManifest = parent == null ? null : manifests.read(parent);
            IndexStore.Known known = parentChunksOnly && parentManifest != null ? null
                    : indexes.known(chunks, manifests);
            try (ChunkUploader uploader = known == null
                    ? ChunkUploader.knowingTheParent(chunks, indexes, parentManifest)
                    : ChunkUploader.knowingTheTarget(chunks, indexes, known)) {
                BackupContents contents;
                try {
                    contents = reader.read(uploader, parentManifest, lock);
                    uploader.finish();
                } catch (IOException | RuntimeException | Error e) {
                    uploader.discardPacks(e); // before any manifest: nothing can name them
                    throw e;
                }
                ManifestStore.Referenced uncovered = known == null ? ManifestStore.Referenced.none()
                        : known.uncovered();
                return store(what, name, checkedLabels, parent, createdAt, contents, uploader, uncovered);
            }
        }
    }

    /**
     * Makes the stored chunks durable, then indexes them, then writes the manifest that makes the
     * backup exist, each packed chunk with its place. The index covers the backup and its new layers
     * even when it names nothing new, so that no later backup has to read their manifests. The
     * manifests are sealed (serialised, compressed, encrypted: half a second for 100,000 files) on a
     * thread of their own while the chunks are flushed and the index is written: only the puts need
     * their order.
     */
    private BackupSummary store(String what, String name, Map<String, String> checkedLabels, String parent,
            Instant createdAt, BackupContents contents, ChunkUploader uploader, ManifestStore.Referenced uncovered)
            throws IOException {
        if (manifests.exists(name)) {
            return manifests.read(name).summary(); // a racing retry finished first; ours only left orphans
        }
        BackupSummary summary = summarise(name, createdAt, checkedLabels, parent, contents, uploader);
        List<Manifest> located = new ArrayList<>(); // put in this order: a layer before the backup naming it
        for (Manifest layer : contents.layers()) {
            located.add(new Manifest(layer.version(), layer.name(), layer.createdAt(), layer.labels(),
                    layer.parent(), uploader.locate(layer.entries()), layer.summary()));
        }
        located.add(new Manifest(Manifest.VERSION, name, createdAt, checkedLabels, parent,
                uploader.locate(contents.entries()), summary));
        try (WorkerPool sealer = new WorkerPool("backup-seal", 1)) {
            Future<List<ManifestStore.Sealed>> sealed = sealer.submit(() -> seal(located));
            chunks.flush(); // every chunk durable before the index and the manifest that name it
            configKept.run(); // sealed with its keys: an index or manifest under another config opens with no key
            index(name, contents, uploader, uncovered);
            CrashPoint.reach("backup.indexed"); // an index naming chunks no manifest references yet
            for (ManifestStore.Sealed manifest : WorkerPool.await(sealed)) {
                manifests.put(manifest);
            }
        }
        uploader.deleteCheckpoints();
        LOG.info("backup {} of {} to {}: {} files, {} bytes ({} read), {} new chunks ({} bytes stored)", name,
                what, chunks.url(), summary.files(), summary.logicalBytes(), summary.readBytes(),
                summary.newChunks(), summary.uploadedBytes());
        return summary;
    }

    private List<ManifestStore.Sealed> seal(List<Manifest> located) throws IOException {
        List<ManifestStore.Sealed> sealed = new ArrayList<>();
        for (Manifest manifest : located) {
            sealed.add(manifests.seal(manifest));
        }
        return sealed;
    }

    /** Indexes what {@code uploader} stored and what the manifests no index covered reference. */
    private void index(String name, BackupContents contents, ChunkUploader uploader,
            ManifestStore.Referenced uncovered) throws IOException {
        List<String> covers = new ArrayList<>(uncovered.names());
        covers.add(name);
        contents.layers().forEach(layer -> covers.add(layer.name()));
        List<String> ids = new ArrayList<>(uploader.storedAlone());
        ids.addAll(uncovered.chunks().ids());
        List<Manifest.ChunkRef> places = new ArrayList<>(uploader.storedPacked());
        places.addAll(uncovered.chunks().places());
        indexes.write(covers, ids, places);
    }

    private static BackupSummary summarise(String name, Instant createdAt, Map<String, String> labels, String parent,
            BackupContents contents, ChunkUploader uploader) {
        return new BackupSummary(name, createdAt, labels, parent, contents.files(), contents.directories(),
                contents.symlinks(), contents.skipped(), contents.logicalBytes(), contents.chunks(),
                uploader.newChunks(), uploader.uploadedBytes(), contents.readBytes());
    }

    private static Map<String, String> checkLabels(Map<String, String> labels) throws BackupException {
        Map<String, String> sorted = new TreeMap<>();
        if (labels == null) {
            return sorted;
        }
        for (Map.Entry<String, String> label : labels.entrySet()) {
            if (label.getKey() == null || label.getKey().isEmpty() || label.getValue() == null) {
                throw new BackupException(BackupException.Kind.INVALID,
                        "invalid label " + label.getKey() + "=" + label.getValue() + ": keys must be non-empty, values non-null");
            }
            sorted.put(label.getKey(), label.getValue());
        }
        return sorted;
    }

    private static Map<String, Manifest.Entry> entriesByPath(Manifest parent) {
        Map<String, Manifest.Entry> byPath = new HashMap<>();
        if (parent == null) {
            return byPath;
        }
        for (Manifest.Entry entry : parent.entries()) {
            if (entry != null && entry.path() != null) {
                byPath.put(entry.path(), entry);
            }
        }
        return byPath;
    }
}
