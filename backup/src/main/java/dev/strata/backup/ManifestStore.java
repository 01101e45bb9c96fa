package dev.strata.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Manifests on the target, at {@code backups/NAME}, sealed by the chunk codec with their key as AAD
 * so that a manifest copied to another name does not open. Reading checks the shape, not the paths:
 * that is the restore's job.
 */
final class ManifestStore {
    static final String PREFIX = "backups/";
    private static final int MAX_MANIFEST_BYTES = 256 << 20;

    private final BackupTarget target;
    private final ChunkCodec codec;

    ManifestStore(BackupTarget target, ChunkCodec codec) {
        this.target = target;
        this.codec = codec;
    }

    static String key(String name) {
        return PREFIX + name;
    }

    boolean exists(String name) throws IOException {
        return target.exists(key(name));
    }

    List<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        for (String key : target.list(PREFIX)) {
            String name = key.substring(PREFIX.length());
            if (BackupNames.isValid(name)) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Every chunk some manifest references. A manifest that cannot be read fails the call: a prune
     * must not guess, and a backup must not trust chunks it cannot account for.
     */
    Chunks referencedChunks() throws IOException {
        return referenced(null).chunks();
    }

    /**
     * Chunks some manifests reference: the IDs of those stored as objects of their own, and where
     * each packed one is (one place for an ID that two packs hold: either serves).
     */
    record Chunks(Set<String> ids, Map<String, Manifest.ChunkRef> packed) {
        Chunks() {
            this(new HashSet<>(), new HashMap<>());
        }

        /** The chunks one manifest references (holes reference none). */
        static Chunks of(Manifest manifest) {
            Chunks chunks = new Chunks();
            chunks.add(manifest);
            return chunks;
        }

        /** The packs that hold them. */
        Set<String> packs() {
            Set<String> packs = new HashSet<>();
            packed.values().forEach(ref -> packs.add(ref.pack()));
            return packs;
        }

        void add(Manifest manifest) {
            for (Manifest.Entry entry : manifest.entries()) {
                if (entry != null && entry.chunks() != null) {
                    entry.chunks().stream().filter(ref -> ref != null && !ref.isHole()).forEach(this::add);
                }
            }
        }

        void addAll(Chunks other) {
            ids.addAll(other.ids);
            other.packed.forEach(packed::putIfAbsent);
        }

        private void add(Manifest.ChunkRef ref) {
            if (ref.isPacked()) {
                packed.putIfAbsent(ref.id(), ref);
            } else {
                ids.add(ref.id());
            }
        }
    }

    /**
     * What a prune keeps: the chunks of every manifest but the layers no backup names that were
     * made before {@code layerCutoff} (none when it is null), which it may delete.
     */
    record Referenced(Chunks chunks, List<String> unnamedLayers) {}

    /** Reads one manifest at a time (a target's manifests together may not fit in memory). */
    Referenced referenced(Instant layerCutoff) throws IOException {
        Chunks referenced = new Chunks();
        Set<String> named = new HashSet<>();
        Map<String, Instant> layerCreated = new HashMap<>();
        Map<String, Chunks> layerChunks = new HashMap<>();
        for (String name : names()) {
            Manifest manifest;
            try {
                manifest = read(name);
            } catch (BackupException e) {
                if (e.kind() == BackupException.Kind.NOT_FOUND) {
                    continue; // removed since listed: its chunks are no longer referenced by it
                }
                throw e;
            }
            if (ManifestChecks.isLayered(manifest)) {
                ManifestChecks.checkLayered(manifest); // which layers a backup names is not guessed either
                manifest.entries().forEach(layer -> named.add(layer.target()));
            }
            if (ManifestChecks.isLayerName(name)) {
                layerChunks.put(name, Chunks.of(manifest));
                layerCreated.put(name, manifest.createdAt());
            } else {
                referenced.add(manifest);
            }
        }
        List<String> unnamed = new ArrayList<>();
        for (var layer : layerChunks.entrySet()) {
            Instant createdAt = layerCreated.get(layer.getKey());
            boolean old = layerCutoff != null && (createdAt == null || createdAt.isBefore(layerCutoff));
            if (old && !named.contains(layer.getKey())) {
                unnamed.add(layer.getKey()); // only a hand-written manifest lacks its creation time
            } else {
                referenced.addAll(layer.getValue());
            }
        }
        return new Referenced(referenced, unnamed);
    }

    Manifest read(String name) throws IOException {
        byte[] stored;
        try {
            stored = target.get(key(name));
        } catch (NoSuchFileException e) {
            throw new BackupException(BackupException.Kind.NOT_FOUND, "backup " + name + " not found in " + target.url());
        }
        String what = "the manifest of backup " + name + " in " + target.url();
        byte[] json;
        try {
            ByteBuffer plain = codec.open(stored, key(name), MAX_MANIFEST_BYTES);
            json = new byte[plain.remaining()];
            plain.get(json);
        } catch (BackupException e) {
            throw new BackupException(BackupException.Kind.CORRUPT, what + " is corrupt: " + e.getMessage());
        }
        return checkShape(Json.read(json, Manifest.class, what), name, what);
    }

    void delete(String name) throws IOException {
        target.delete(key(name));
    }

    /** Serialised straight into compressed blocks: no whole copy of the JSON is ever in memory. */
    void write(Manifest manifest) throws IOException {
        String key = key(manifest.name());
        ZstdBlocks.Writer blocks = new ZstdBlocks.Writer();
        Json.write(manifest, blocks);
        target.put(key, codec.seal(blocks, key));
    }

    private static Manifest checkShape(Manifest manifest, String name, String what) throws BackupException {
        String problem = manifest.version() < Manifest.FIRST_VERSION || manifest.version() > Manifest.VERSION
                ? "has version " + manifest.version() + ", which this driver does not read"
                : !name.equals(manifest.name()) ? "names another backup, " + manifest.name()
                : manifest.entries() == null || manifest.summary() == null ? "lacks its entries or summary"
                : null;
        if (problem != null) {
            throw new BackupException(BackupException.Kind.CORRUPT, what + " " + problem);
        }
        return manifest;
    }
}
