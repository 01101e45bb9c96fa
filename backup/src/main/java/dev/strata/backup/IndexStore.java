package dev.strata.backup;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Indexes on the target, at {@code index/NAME} (a random name), sealed as manifests are: chunks some
 * writer stored, by ID, each packed one with its place, and the manifests ({@code covers}) whose
 * chunks the target's indexes account for once this one is there. A backup writes one for what it
 * stored, after the flush that made that durable and before its manifest, taking in the manifests
 * no index covered when it began; a repack writes one for the packs it filled; a prune folds them
 * all into one, made from the manifests it reads, before it deletes anything. A new backup learns what the target holds from the indexes and from the few
 * manifests none covers (an older driver's), rather than from every manifest: restic's index files
 * spare its backups the same.
 *
 * <p>An index only ever adds what a listing confirms: an entry whose chunk or pack is gone (a prune
 * deleted it, a repack moved it) is not trusted, so an index may go stale without harm; one that
 * cannot be read is skipped, and the manifests it covered are read instead. What no index names is
 * stored again: a lost chance to deduplicate, never a reference to something that is not there.
 */
final class IndexStore {
    static final String PREFIX = "index/";
    static final int VERSION = 1;
    private static final Pattern KEY = Pattern.compile(Pattern.quote(PREFIX) + "[0-9a-f]{64}");
    private static final int MAX_INDEX_BYTES = 256 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(IndexStore.class);

    private final BackupTarget target;
    private final ChunkCodec codec;
    private final int maxChunk;

    /** One index as stored: {@code chunks} are those stored as objects of their own. */
    record ChunkIndex(int version, List<String> covers, List<String> chunks, List<Manifest.ChunkRef> packed) {
        ChunkIndex {
            covers = covers == null ? null : List.copyOf(covers);
            chunks = chunks == null ? null : List.copyOf(chunks);
            packed = packed == null ? null : List.copyOf(packed);
        }
    }

    /**
     * The chunks a backup may take as stored whole: IDs of those stored alone, and a place for each
     * packed one, both the backup's own to add to; and the manifests no index covered (an older
     * driver's) with what they reference, which the backup's index takes in, so that the backups
     * after it need not read them.
     */
    record Known(Set<String> ids, Map<String, Manifest.ChunkRef> packed, ManifestStore.Referenced uncovered) {}

    IndexStore(BackupTarget target, ChunkCodec codec, int maxChunk) {
        this.target = target;
        this.codec = codec;
        this.maxChunk = maxChunk;
    }

    /**
     * What the target holds whole, from its indexes and the manifests no index covers, checked
     * against one listing of the chunks and one of the packs. Where puts are buffered
     * ({@link BackupTarget#orphansAreWhole} false) a chunk stored alone counts only when an index or
     * a manifest names it: both are written after the flush that made it durable.
     */
    Known known(ChunkStore chunks, ManifestStore manifests) throws IOException {
        long start = System.nanoTime();
        Set<String> packs = chunks.listPacks();
        Set<String> covered = new HashSet<>();
        Set<String> named = new HashSet<>();
        Map<String, Manifest.ChunkRef> packed = new HashMap<>();
        List<String> keys = keys();
        for (String key : keys) {
            ChunkIndex index = readOrSkip(key);
            if (index != null) {
                covered.addAll(index.covers());
                named.addAll(index.chunks());
                addPlaces(index.packed(), packs, packed);
            }
        }
        ManifestStore.Referenced uncovered = manifests.referenced(null, name -> !covered.contains(name));
        named.addAll(uncovered.chunks().ids());
        addPlaces(uncovered.chunks().places(), packs, packed);
        Set<String> stored = chunks.listIds();
        if (!chunks.orphansAreWhole()) {
            stored.retainAll(named);
        }
        LOG.info("{}: {} chunks stored alone and {} packed known from {} indexes and {} manifests no index covers, "
                + "in {} ms", target.url(), stored.size(), packed.size(), keys.size(), uncovered.names().size(),
                (System.nanoTime() - start) / 1_000_000);
        return new Known(stored, packed, uncovered);
    }

    private static void addPlaces(Collection<Manifest.ChunkRef> places, Set<String> packs,
            Map<String, Manifest.ChunkRef> into) {
        for (Manifest.ChunkRef ref : places) {
            if (packs.contains(ref.pack())) {
                into.putIfAbsent(ref.id(), ref);
            }
        }
    }

    /** Stores a new index; returns its key. */
    String write(Collection<String> covers, Collection<String> ids, Collection<Manifest.ChunkRef> packed)
            throws IOException {
        String key = PREFIX + ChunkStore.newPackName();
        target.put(key, codec.sealJson(new ChunkIndex(VERSION, List.copyOf(covers), List.copyOf(ids),
                List.copyOf(packed)), key));
        return key;
    }

    /**
     * Replaces every index with one naming exactly {@code referenced}, which the manifests named
     * {@code covers} reference: a prune's, before it deletes anything, so no index names a chunk it
     * deletes (a chunk stored again under the same ID later, then torn by a power cut, would
     * otherwise be trusted). A crash between the write and the deletes leaves both, each still true.
     */
    void replaceAll(Collection<String> covers, ManifestStore.Chunks referenced) throws IOException {
        List<String> old = keys();
        List<Manifest.ChunkRef> places = referenced.places();
        boolean empty = covers.isEmpty() && referenced.ids().isEmpty() && places.isEmpty();
        String written = empty ? null : write(covers, referenced.ids(), places); // an empty target needs none
        for (String key : old) {
            if (!key.equals(written)) { // listed before: never, unless two random names met
                try {
                    target.delete(key);
                } catch (NoSuchFileException e) {
                    // deleted by someone else since listed
                }
            }
        }
    }

    /** Deletes one index this JVM wrote; a missing one is a no-op. */
    void delete(String key) throws IOException {
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("not an index key: " + key);
        }
        target.delete(key);
    }

    List<String> keys() throws IOException {
        List<String> keys = new ArrayList<>();
        for (String key : target.list(PREFIX)) {
            if (KEY.matcher(key).matches()) {
                keys.add(key);
            }
        }
        return keys;
    }

    /** An index as {@code backup verify} reads it: what it says, or why it cannot be read (then null). */
    record Read(String key, ChunkIndex index, String problem) {}

    /** The index at {@code key}, or why it cannot be read; null when it was deleted since listed. */
    Read readForCheck(String key) throws IOException {
        try {
            ChunkIndex index = read(key);
            return index == null ? null : new Read(key, index, null);
        } catch (BackupException e) {
            return new Read(key, null, e.getMessage());
        }
    }

    /** The index at {@code key}; null, with a warning, when it cannot be read or is not one this code reads. */
    private ChunkIndex readOrSkip(String key) throws IOException {
        try {
            return read(key);
        } catch (BackupException e) { // its message names the index
            LOG.warn("{}; it is skipped, and the manifests it covers are read instead", e.getMessage());
            return null;
        }
    }

    /** The index at {@code key}; null when deleted since listed (the prune that did it wrote one in its place). */
    private ChunkIndex read(String key) throws IOException {
        String what = "the index " + key + " in " + target.url();
        try {
            return check(codec.openJson(target.get(key), key, MAX_INDEX_BYTES, ChunkIndex.class, what), what);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private ChunkIndex check(ChunkIndex index, String what) throws BackupException {
        String problem = index.version() != VERSION
                ? "has version " + index.version() + ", which this driver does not read"
                : index.covers() == null || index.chunks() == null || index.packed() == null ? "lacks a list"
                : !index.covers().stream().allMatch(BackupNames::isValid) ? "covers an invalid backup name"
                : !index.chunks().stream().allMatch(ChunkStore::isValidId) ? "names an invalid chunk ID"
                : !index.packed().stream().allMatch(ref -> ref.isPacked() && ChunkStore.isValidRef(ref, maxChunk))
                        ? "names an invalid place in a pack"
                : null;
        if (problem != null) {
            throw new BackupException(BackupException.Kind.CORRUPT, what + " " + problem);
        }
        return index;
    }
}
