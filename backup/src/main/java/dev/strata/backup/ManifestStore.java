package dev.strata.backup;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

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
     * Chunks some manifests reference: the IDs of those stored as objects of their own, and where
     * each packed one is (one place for an ID that two packs hold: either serves). Every pack some
     * manifest names is counted, with the stored bytes its referenced chunks take: two backups that
     * stored the same chunk at once name it in two packs, and neither pack may go.
     */
    record Chunks(Set<String> ids, Map<String, Manifest.ChunkRef> packed, Map<String, Long> livePackBytes,
            Set<Manifest.ChunkRef> packedElsewhere) {
        Chunks() {
            this(new HashSet<>(), new HashMap<>(), new HashMap<>(), new HashSet<>());
        }

        /** The chunks one manifest references (holes reference none). */
        static Chunks of(Manifest manifest) {
            Chunks chunks = new Chunks();
            chunks.add(manifest);
            return chunks;
        }

        /** The packs that hold them. */
        Set<String> packs() {
            return livePackBytes.keySet();
        }

        /** Every referenced place of a packed chunk, once each. */
        List<Manifest.ChunkRef> places() {
            List<Manifest.ChunkRef> places = new ArrayList<>(packed.values());
            places.addAll(packedElsewhere);
            return places;
        }

        /** Every referenced place in {@code pack}, once each. */
        List<Manifest.ChunkRef> refsIn(String pack) {
            List<Manifest.ChunkRef> refs = places();
            refs.removeIf(ref -> !ref.pack().equals(pack));
            return refs;
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
            other.packed.values().forEach(this::add);
            other.packedElsewhere.forEach(this::add);
        }

        private void add(Manifest.ChunkRef ref) {
            if (!ref.isPacked()) {
                ids.add(ref.id());
                return;
            }
            Manifest.ChunkRef first = packed.putIfAbsent(ref.id(), ref);
            boolean newPlace = first == null
                    || (!first.equals(ref) && packedElsewhere.add(ref)); // another pack, or a copy in the same
            if (newPlace) {
                livePackBytes.merge(ref.pack(), (long) ref.stored(), Long::sum);
            }
        }
    }

    /**
     * What a prune keeps: the chunks of every manifest but the layers no backup names that were
     * made before {@code layerCutoff} (none when it is null), which it may delete.
     */
    record Referenced(Chunks chunks, List<String> unnamedLayers, Map<String, Set<String>> packsByManifest) {
        /** No manifest read. */
        static Referenced none() {
            return new Referenced(new Chunks(), List.of(), Map.of());
        }

        /** Every manifest read. */
        Set<String> names() {
            return packsByManifest.keySet();
        }

        /** The manifests read that a prune keeps: not the unnamed layers. */
        Set<String> kept() {
            Set<String> kept = new HashSet<>(names());
            unnamedLayers.forEach(kept::remove);
            return kept;
        }

        /** The manifests (kept ones: not the unnamed layers) that name a chunk in one of {@code packs}. */
        List<String> naming(Set<String> packs) {
            return packsByManifest.entrySet().stream()
                    .filter(e -> !unnamedLayers.contains(e.getKey()) && e.getValue().stream().anyMatch(packs::contains))
                    .map(Map.Entry::getKey).sorted().toList();
        }
    }

    /**
     * Reads one manifest at a time (a target's manifests together may not fit in memory). A manifest
     * that cannot be read fails the call: a prune must not guess, and a backup must not trust chunks
     * it cannot account for.
     */
    Referenced referenced(Instant layerCutoff) throws IOException {
        return referenced(layerCutoff, name -> true);
    }

    /** {@link #referenced(Instant)} of the manifests {@code which} picks by name. */
    Referenced referenced(Instant layerCutoff, Predicate<String> which) throws IOException {
        Chunks referenced = new Chunks();
        Set<String> named = new HashSet<>();
        Map<String, Instant> layerCreated = new HashMap<>();
        Map<String, Chunks> layerChunks = new HashMap<>();
        Map<String, Set<String>> packsByManifest = new HashMap<>();
        for (String name : names()) {
            if (!which.test(name)) {
                continue;
            }
            Manifest manifest;
            try {
                manifest = read(name);
            } catch (BackupException e) {
                if (e.kind() == BackupException.Kind.NOT_FOUND) {
                    continue; // removed since listed: its chunks are no longer referenced by it
                }
                throw e;
            }
            packsByManifest.put(name, packsOf(manifest));
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
        return new Referenced(referenced, unnamed, packsByManifest);
    }

    private static Set<String> packsOf(Manifest manifest) {
        Set<String> packs = new HashSet<>();
        for (Manifest.Entry entry : manifest.entries()) {
            entry.chunks().stream().filter(ref -> ref != null && ref.isPacked()).forEach(ref -> packs.add(ref.pack()));
        }
        return packs;
    }

    Manifest read(String name) throws IOException {
        byte[] stored;
        try {
            stored = target.get(key(name));
        } catch (NoSuchFileException e) {
            throw new BackupException(BackupException.Kind.NOT_FOUND, "backup " + name + " not found in " + target.url());
        }
        String what = "the manifest of backup " + name + " in " + target.url();
        return checkShape(codec.openJson(stored, key(name), MAX_MANIFEST_BYTES, Manifest.class, what), name, what);
    }

    void delete(String name) throws IOException {
        target.delete(key(name));
    }

    void write(Manifest manifest) throws IOException {
        put(seal(manifest));
    }

    /** A manifest in its stored form, ready for its put: the sealing needs neither the disk nor the target. */
    record Sealed(String key, byte[] stored) {}

    Sealed seal(Manifest manifest) throws IOException {
        String key = key(manifest.name());
        return new Sealed(key, codec.sealJson(manifest, key));
    }

    void put(Sealed manifest) throws IOException {
        target.put(manifest.key(), manifest.stored());
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
