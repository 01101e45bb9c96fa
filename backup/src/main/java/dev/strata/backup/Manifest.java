package dev.strata.backup;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A backup's manifest, as stored (JSON, sealed by the same codec as chunks). A tree's manifest holds
 * every entry of the tree in pre-order (a directory before what it holds), the root first with the
 * path {@code "."}. A device image's holds one {@value Entry#IMAGE} entry, {@code "."}, whose chunks
 * are the device's blocks in order, a run of blocks that read zero being one hole. An overlay
 * snapshot's holds one {@value Entry#LAYER} entry per layer, topmost first, each naming the backup
 * that stores that layer (a tree, with whiteouts and opaque directories) by its content: see
 * {@link Layer}.
 */
public record Manifest(int version, String name, Instant createdAt, Map<String, String> labels, String parent,
        List<Entry> entries, BackupSummary summary) {
    /** The manifest format this code writes: 2 may name packs ({@link ChunkRef#pack}), 1 never does. */
    public static final int VERSION = 2;
    /** The oldest format this code reads. */
    public static final int FIRST_VERSION = 1;

    /** Immutable copies; a null element (only in a hostile manifest) fails here, before any use. */
    public Manifest {
        labels = Labels.copy(labels);
        entries = entries == null ? null : List.copyOf(entries);
    }

    /** The same backup, its entries' content stored elsewhere (a repack moved it). */
    Manifest withEntries(List<Entry> moved) {
        return new Manifest(version, name, createdAt, labels, parent, moved, summary);
    }

    /**
     * One file, directory or symlink; in a layer also a whiteout; or one layer of an overlay snapshot.
     *
     * @param path relative to the tree's root, '/'-separated; {@code "."} for the root; for a
     *     {@value #LAYER}, the key its node gave the layer ({@link Layer#key})
     * @param type {@code "dir"}, {@code "file"}, {@code "symlink"}, {@code "whiteout"}, {@code "image"}
     *     or {@code "layer"}
     * @param mode the 12 permission bits (with setuid, setgid and sticky)
     * @param size a file's or image's bytes; a layer's logical bytes
     * @param target a symlink's target as stored, a layer's backup name, else null
     * @param chunks a file's or image's content in order; empty for other types and for empty files
     * @param opaque a directory of a layer that hides what the layers below hold at its path
     */
    public record Entry(String path, String type, int mode, int uid, int gid,
            long mtimeNanos, long size, long inode, String target, List<ChunkRef> chunks,
            @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean opaque) {
        public static final String DIR = "dir";
        public static final String FILE = "file";
        public static final String SYMLINK = "symlink";
        /** In a layer: a path deleted from the layers below (overlayfs's 0/0 character device). */
        public static final String WHITEOUT = "whiteout";
        /** A block device's content (a thin volume's), the only entry of its manifest. */
        public static final String IMAGE = "image";
        /** One layer of an overlay snapshot, stored as a backup of its own. */
        public static final String LAYER = "layer";

        /** Absent chunks (as a hostile manifest may have) read as none. */
        public Entry {
            chunks = chunks == null ? List.of() : List.copyOf(chunks);
        }

        /** The same entry, its content stored elsewhere (a repack moved it). */
        Entry withChunks(List<ChunkRef> moved) {
            return new Entry(path, type, mode, uid, gid, mtimeNanos, size, inode, target, moved, opaque);
        }

        /** An entry that is not an opaque directory. */
        public Entry(String path, String type, int mode, int uid, int gid, long mtimeNanos, long size, long inode,
                String target, List<ChunkRef> chunks) {
            this(path, type, mode, uid, gid, mtimeNanos, size, inode, target, chunks, false);
        }
    }

    /**
     * A piece of a file's or image's content.
     *
     * @param id the chunk's ID (hex SHA-256, or hex HMAC-SHA256 in an encrypted repository); null for
     *     a hole, bytes of an image that read zero and are stored nowhere
     * @param size the plaintext size of the chunk, or the length of the hole
     * @param pack the pack holding the chunk ({@link ChunkStore#packKey}); null for a chunk stored as
     *     an object of its own (every chunk of a version 1 manifest)
     * @param offset where the chunk's stored form starts in its pack
     * @param stored the length of the chunk's stored form in its pack
     */
    public record ChunkRef(String id, int size, @JsonInclude(JsonInclude.Include.NON_NULL) String pack,
            @JsonInclude(JsonInclude.Include.NON_DEFAULT) long offset,
            @JsonInclude(JsonInclude.Include.NON_DEFAULT) int stored) {
        /**
         * Pack names interned: a manifest of 100,000 small files names a few dozen packs, and a
         * String per ref read from JSON took a tenth of the heap a backup's manifests need.
         */
        public ChunkRef {
            pack = pack == null ? null : pack.intern();
        }

        /** A chunk stored as an object of its own, or a hole. */
        public ChunkRef(String id, int size) {
            this(id, size, null, 0, 0);
        }

        static ChunkRef hole(int size) {
            return new ChunkRef(null, size);
        }

        @JsonIgnore // not stored: a hole is a ref without an ID
        public boolean isHole() {
            return id == null;
        }

        @JsonIgnore
        public boolean isPacked() {
            return pack != null;
        }

        /** Where a packed chunk's stored bytes end in its pack. */
        long end() {
            return offset + stored;
        }

        /** The same chunk, stored {@code stored} bytes at {@code offset} of {@code pack}. */
        ChunkRef in(String pack, long offset, int stored) {
            return new ChunkRef(id, size, pack, offset, stored);
        }

        /** What the chunk holds, without where it is stored: a layer's name hashes this. */
        ChunkRef content() {
            return isPacked() ? new ChunkRef(id, size) : this;
        }
    }
}
