package dev.strata.backup;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A backup repository on a {@link BackupTarget}: trees backed up as content-defined chunks, addressed
 * by hash, deduplicated across every backup in the target, compressed with zstd and, when opened with
 * a key, encrypted on the client. Each backup is a manifest written after its chunks. Thread-safe:
 * each call keeps its own state, and backups and prunes coordinate through locks on the target.
 */
public final class BackupRepository {
    private final BackupTarget target;
    private final ChunkStore chunks;
    private final ManifestStore manifests;
    private final IndexStore indexes;
    private final Chunker chunker;
    private final Locks locks;
    private final RepositoryConfig config;

    private BackupRepository(BackupTarget target, RepositoryOpener.Opened opened) {
        ChunkCodec codec = new ChunkCodec(opened.keys());
        this.target = target;
        this.chunker = new Chunker(opened.config().chunker());
        this.chunks = new ChunkStore(target, codec, chunker.maxChunk());
        this.manifests = new ManifestStore(target, codec);
        this.indexes = new IndexStore(target, codec, chunker.maxChunk());
        this.locks = new Locks(target);
        this.config = opened.config();
    }

    /**
     * Opens the repository at {@code url}, initialising it (writing "config") when the target is empty.
     * {@code secrets}: an S3 target's credentials (else the SDK's default chain) and the key, secret
     * bytes (a passphrase or a key file's content; none for no encryption). A new repository is
     * encrypted iff a key is given. An encrypted repository without a key is KEY_REQUIRED, with the
     * wrong key WRONG_KEY; an unencrypted one with a key is INVALID.
     */
    public static BackupRepository open(String url, BackupSecrets secrets) throws IOException {
        return open(BackupTarget.open(url, secrets), secrets.key());
    }

    /**
     * {@link #open}, but only where the target holds its config; else empty, and nothing is written: a
     * target without a config (empty, or holding other data) holds no backup, since the first backup
     * into a target writes its config before anything else.
     */
    public static Optional<BackupRepository> openExisting(String url, BackupSecrets secrets) throws IOException {
        BackupTarget target = BackupTarget.open(url, secrets);
        return target.exists(RepositoryConfig.KEY) ? Optional.of(open(target, secrets.key())) : Optional.empty();
    }

    /**
     * The repository at {@code url} that backup {@code name} is to be read from (a restore, an
     * inspection): {@link #openExisting}, and where the target holds no config, NOT_FOUND for the
     * backup, with nothing written. A read never makes a repository of a target that names the
     * wrong directory or bucket.
     */
    public static BackupRepository holding(String url, String name, BackupSecrets secrets) throws IOException {
        checkName(name);
        BackupTarget target = BackupTarget.open(url, secrets);
        if (!target.exists(RepositoryConfig.KEY)) {
            throw new BackupException(BackupException.Kind.NOT_FOUND, "backup " + name + " not found in "
                    + target.url() + ": it holds no Strata backup");
        }
        return open(target, secrets.key());
    }

    /** Refuses what cannot name a backup (INVALID), before a target is opened. */
    public static String checkName(String name) throws BackupException {
        return BackupNames.check(name, "backup name");
    }

    /** Opens a repository on any target (tests wrap one to inject failures). */
    static BackupRepository open(BackupTarget target, byte[] key) throws IOException {
        return new BackupRepository(target, RepositoryOpener.open(target, key));
    }

    public String url() {
        return target.url();
    }

    /**
     * Backs up the tree under {@code tree} (not following symlinks, not descending into other
     * filesystems) as backup {@code name}. An existing name returns its summary unchanged. With a
     * {@code parent}, files whose size, mtime and inode match the parent's are not read again.
     */
    public BackupSummary backup(Path tree, String name, Map<String, String> labels, String parent) throws IOException {
        return writer().backupTree(tree, name, labels, parent);
    }

    /**
     * Backs up a block device as backup {@code name}, reading only the blocks {@code plan} names
     * (see {@link ImagePlan}); blocks that read zero are stored as holes. An existing name returns
     * its summary unchanged. The plan's parent must be an image of the same block size.
     */
    public BackupSummary backupImage(BlockImage image, ImagePlan plan, String name, Map<String, String> labels)
            throws IOException {
        return writer().backupImage(image, plan, name, labels);
    }

    /**
     * Backs up an overlay snapshot's layers, topmost first, as backup {@code name}. Each layer is
     * stored once per target, by its content ({@link Layer}); a layer whose key the layers of a
     * {@code known} backup name is not read again. An existing name returns its summary unchanged.
     */
    public BackupSummary backupLayers(List<Layer> layers, String name, Map<String, String> labels, List<String> known,
            LayerMarks marks) throws IOException {
        return writer().backupLayers(List.copyOf(layers), name, labels, List.copyOf(known), marks);
    }

    private BackupWriter writer() {
        return new BackupWriter(chunks, manifests, indexes, chunker, locks,
                () -> RepositoryOpener.checkKept(target, config));
    }

    /**
     * The layers' backups of the overlay snapshot's backup {@code name}, topmost first; any other
     * backup is INVALID.
     */
    public List<String> layersOf(String name) throws IOException {
        return layersOf(manifest(name));
    }

    /** As {@link #layersOf(String)}, from a manifest already read with {@link #manifest}. */
    public static List<String> layersOf(Manifest manifest) throws BackupException {
        ManifestChecks.checkLayered(manifest);
        return manifest.entries().stream().map(Manifest.Entry::target).toList();
    }

    /**
     * Restores one layer's backup into {@code into}, an existing empty directory, with its whiteouts
     * and opaque directories. A layer whose content does not match its name is CORRUPT before
     * anything is written: a node keeps a restored layer by that name and shares it.
     */
    public BackupSummary restoreLayer(String layerName, Path into, LayerMarks marks) throws IOException {
        try (Locks.Held reading = locks.holdForReading()) {
            Manifest layer = manifest(layerName);
            ManifestChecks.checkRestorable(layer, chunker.maxChunk(), true);
            if (!LayerBackup.isNamedByContent(chunks, layer)) {
                throw new BackupException(BackupException.Kind.CORRUPT, "the layer " + layerName + " in " + url()
                        + " does not hold the content its name says");
            }
            new TreeRestore(chunks, chunker.maxChunk(), isRoot(), marks).restore(layer, into);
            return layer.summary();
        }
    }

    /**
     * Restores the device image {@code name} onto {@code device}, which must be at least as large and
     * read zero everywhere (holes are not written), checking every chunk; then flushes the device.
     * A tree's backup is INVALID here, as an image's is for {@link #restore}.
     */
    public BackupSummary restoreImage(String name, BlockImage device) throws IOException {
        try (Locks.Held reading = locks.holdForReading()) {
            Manifest manifest = manifest(name);
            new ImageRestore(chunks, chunker.maxChunk()).restore(manifest, device);
            return manifest.summary();
        }
    }

    /**
     * As {@link #restoreImage(String, BlockImage)}, for a manifest a caller read with
     * {@link #manifest} to check its labels. It is read again under the reader's lock: a repack may
     * have moved its chunks since.
     */
    public BackupSummary restoreImage(Manifest manifest, BlockImage device) throws IOException {
        return restoreImage(manifest.name(), device);
    }

    /**
     * Restores backup {@code name} into {@code into}, an existing empty directory, checking every
     * chunk and refusing a manifest whose paths could lead outside it (CORRUPT). Returns the
     * backup's summary.
     */
    public BackupSummary restore(String name, Path into) throws IOException {
        try (Locks.Held reading = locks.holdForReading()) {
            Manifest manifest = manifest(name);
            new TreeRestore(chunks, chunker.maxChunk(), isRoot(), null).restore(manifest, into);
            return manifest.summary();
        }
    }

    /**
     * Every backup's summary, sorted by creation time, then name; not the layers' backups, which are
     * parts of the overlay snapshots' that name them.
     */
    public List<BackupSummary> list() throws IOException {
        List<BackupSummary> summaries = new ArrayList<>();
        for (String name : manifests.names()) {
            if (!ManifestChecks.isLayerName(name)) {
                summaries.add(manifests.read(name).summary());
            }
        }
        summaries.sort(Comparator.comparing(BackupSummary::createdAt).thenComparing(BackupSummary::name));
        return summaries;
    }

    /** Whether backup {@code name} is in the target. */
    public boolean exists(String name) throws IOException {
        return manifests.exists(BackupNames.check(name, "backup name"));
    }

    public BackupSummary summary(String name) throws IOException {
        return manifest(name).summary();
    }

    public Manifest manifest(String name) throws IOException {
        return manifests.read(BackupNames.check(name, "backup name"));
    }

    /**
     * Re-reads and checks every chunk the backup references (an overlay snapshot's: every chunk of
     * every layer), and what the target's indexes say of those chunks; the report names each bad
     * chunk and a file using it, each index that cannot be read, and each entry placing a chunk
     * where it is not.
     */
    public VerifyReport verify(String name) throws IOException {
        try (Locks.Held reading = locks.holdForReading()) {
            return new Verifier(chunks, manifests, indexes, chunker.maxChunk()).verify(manifest(name));
        }
    }

    /**
     * Removes the backup's manifest (a missing one is a no-op), then prunes with no grace: the chunks
     * only it used go now, and the layers only it named. That is safe because a prune never runs
     * beside a live backup (see {@link Locks}); the grace of {@link #prune} is for chunks of backups
     * whose lock went stale. A layer's backup is not removed by name: it goes with the last backup
     * that names it. BUSY while a repack rewrites manifests.
     */
    public PruneReport remove(String name) throws IOException {
        if (ManifestChecks.isLayerName(name)) {
            throw new BackupException(BackupException.Kind.INVALID, "backup " + name + " is a layer of overlay "
                    + "snapshots: it goes with the last backup that names it");
        }
        removeManifest(target, BackupNames.check(name, "backup name"));
        return prune(Duration.ZERO);
    }

    /**
     * Removes only the manifest of backup {@code name} from {@code url}: without the key of an
     * encrypted repository nothing else can be done (its chunks wait for a prune that has the key).
     * BUSY while a repack rewrites manifests, as {@link #remove}.
     */
    public static void removeManifestOnly(String url, BackupSecrets secrets, String name) throws IOException {
        removeManifest(BackupTarget.open(url, secrets), BackupNames.check(name, "backup name"));
    }

    private static void removeManifest(BackupTarget target, String name) throws IOException {
        try (Locks.Lock removing = new Locks(target).acquireRemove()) {
            target.delete(ManifestStore.key(name));
        }
    }

    /**
     * Deletes the layers' backups that no backup names and chunks that no manifest references, each
     * older than {@code grace}; skipped
     * (nothing deleted) while a backup holds a lock.
     */
    public PruneReport prune(Duration grace) throws IOException {
        return new Pruner(chunks, manifests, indexes, locks).prune(grace);
    }

    /** Stores a manifest as it is, unchecked: tests use it to hand-write hostile ones. */
    void writeManifest(Manifest manifest) throws IOException {
        manifests.write(manifest);
    }

    private static boolean isRoot() {
        return new UnixSystem().getUid() == 0;
    }
}
