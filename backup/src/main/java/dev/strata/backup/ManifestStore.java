package dev.strata.backup;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;

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
    java.util.Set<String> referencedChunkIds() throws IOException {
        return referencedChunkIds(readAll().values());
    }

    static java.util.Set<String> referencedChunkIds(java.util.Collection<Manifest> all) {
        java.util.Set<String> referenced = new java.util.HashSet<>();
        all.forEach(manifest -> referenced.addAll(chunkIdsOf(manifest)));
        return referenced;
    }

    /** Every manifest, by name; one removed since listed is left out, one that cannot be read fails the call. */
    java.util.Map<String, Manifest> readAll() throws IOException {
        java.util.Map<String, Manifest> all = new java.util.HashMap<>();
        for (String name : names()) {
            try {
                all.put(name, read(name));
            } catch (BackupException e) {
                if (e.kind() != BackupException.Kind.NOT_FOUND) {
                    throw e;
                }
            }
        }
        return all;
    }

    /** The chunks one manifest references (holes reference none). */
    static java.util.Set<String> chunkIdsOf(Manifest manifest) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry != null && entry.chunks() != null) {
                entry.chunks().stream().filter(ref -> ref != null && !ref.isHole()).forEach(ref -> ids.add(ref.id()));
            }
        }
        return ids;
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
            json = codec.open(stored, key(name), MAX_MANIFEST_BYTES);
        } catch (BackupException e) {
            throw new BackupException(BackupException.Kind.CORRUPT, what + " is corrupt: " + e.getMessage());
        }
        return checkShape(Json.read(json, Manifest.class, what), name, what);
    }

    void delete(String name) throws IOException {
        target.delete(key(name));
    }

    void write(Manifest manifest) throws IOException {
        String key = key(manifest.name());
        byte[] json = Json.write(manifest);
        target.put(key, codec.seal(json, 0, json.length, key));
    }

    private static Manifest checkShape(Manifest manifest, String name, String what) throws BackupException {
        String problem = manifest.version() != Manifest.VERSION ? "has version " + manifest.version()
                : !name.equals(manifest.name()) ? "names another backup, " + manifest.name()
                : manifest.entries() == null || manifest.summary() == null ? "lacks its entries or summary"
                : null;
        if (problem != null) {
            throw new BackupException(BackupException.Kind.CORRUPT, what + " " + problem);
        }
        return manifest;
    }
}
