package dev.strata.backup;

import dev.strata.common.CrashPoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Chunks on the target, at {@code chunks/ID[0..2]/ID}. Reading checks every chunk against its ID
 * before anyone uses its bytes, and names the file it belongs to when something is wrong.
 */
final class ChunkStore {
    static final String PREFIX = "chunks/";
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    /** More than a stored chunk adds to its plaintext: 2 header bytes, a 12-byte nonce, a 16-byte tag. */
    private static final int STORED_OVERHEAD = 64;

    private final BackupTarget target;
    private final ChunkCodec codec;
    private final int maxChunk;

    ChunkStore(BackupTarget target, ChunkCodec codec, int maxChunk) {
        this.target = target;
        this.codec = codec;
        this.maxChunk = maxChunk;
    }

    static String key(String id) {
        return PREFIX + id.substring(0, 2) + "/" + id;
    }

    static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** The ID a chunk of these bytes has on this target (keyed when the target is encrypted). */
    String idOf(byte[] data, int offset, int length) {
        return codec.chunkId(data, offset, length);
    }

    /** Whether a stored chunk that no manifest references is whole ({@link BackupTarget#orphansAreWhole}). */
    boolean orphansAreWhole() {
        return target.orphansAreWhole();
    }

    /** Makes every chunk stored so far durable: called before a manifest names them. */
    void flush() throws IOException {
        target.flush();
    }

    String url() {
        return target.url();
    }

    Instant modified(String id) throws IOException {
        return target.modified(key(id));
    }

    /** Deletes a stored chunk; returns its size. NoSuchFileException when someone else deleted it first. */
    long delete(String id) throws IOException {
        long size = target.size(key(id));
        target.delete(key(id));
        return size;
    }

    /** Removes what writes a crash cut off before {@code before} left behind. */
    void sweepInterrupted(Instant before) throws IOException {
        target.sweepInterrupted(before);
    }

    /** The IDs of every chunk stored, from their keys; stray files under chunks/ are ignored. */
    Set<String> listIds() throws IOException {
        Set<String> ids = new HashSet<>();
        for (String key : target.list(PREFIX)) {
            String id = key.substring(key.lastIndexOf('/') + 1);
            if (isValidId(id) && key.equals(key(id))) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** Seals (in {@code scratch}, as {@link ChunkCodec#seal} says) and stores a chunk under its ID; returns the stored size. */
    long write(String id, byte[] data, int offset, int length, byte[] scratch) throws IOException {
        byte[] sealed = codec.seal(data, offset, length, id, scratch);
        target.putBuffered(key(id), sealed); // durable at the flush before the manifest
        CrashPoint.reach("backup.chunk.stored"); // an upload cut short: chunks without a manifest
        return sealed.length;
    }

    /** Scratch enough to seal any chunk of this store. */
    byte[] newSealScratch() {
        return new byte[ChunkCodec.scratchBytes(maxChunk)];
    }

    /**
     * The chunk's plaintext, checked ({@code file} names the file using it, for the error message),
     * read into {@code reuse} when it is big enough: the plaintext may be a view of it (a plain
     * object's is), so it is valid only while {@code reuse} is not used again. A smaller
     * {@code reuse} is replaced by an array of the next power of two.
     */
    ByteBuffer read(Manifest.ChunkRef ref, String file, byte[] reuse) throws IOException {
        String where = "chunk " + ref.id() + " of file " + file;
        if (!isValidId(ref.id())) {
            throw new BackupException(BackupException.Kind.CORRUPT, where + ": not a valid chunk ID");
        }
        ByteBuffer stored;
        try {
            stored = target.get(key(ref.id()), bigEnough(reuse, ref.size()));
        } catch (NoSuchFileException e) {
            throw new BackupException(BackupException.Kind.MISSING_CHUNK, where + " is missing from " + target.url());
        }
        ByteBuffer plain;
        try {
            plain = codec.open(stored, ref.id(), maxChunk);
        } catch (BackupException e) {
            throw new BackupException(BackupException.Kind.CORRUPT, where + " is corrupt: " + e.getMessage());
        }
        if (!codec.chunkId(plain.array(), plain.arrayOffset() + plain.position(), plain.remaining()).equals(ref.id())) {
            throw new BackupException(BackupException.Kind.CORRUPT, where + " is corrupt: its content does not match its ID");
        }
        if (plain.remaining() != ref.size()) {
            throw new BackupException(BackupException.Kind.CORRUPT,
                    where + " is corrupt: it holds " + plain.remaining() + " bytes, the manifest says " + ref.size());
        }
        return plain;
    }

    /** Room for the stored form of a chunk of {@code plainSize} bytes: its header, nonce and tag. */
    private byte[] bigEnough(byte[] reuse, long plainSize) {
        long needed = Math.min(Math.max(plainSize, 0), maxChunk) + STORED_OVERHEAD;
        if (reuse.length >= needed) {
            return reuse;
        }
        return new byte[(int) Math.min(Long.highestOneBit(needed - 1) << 1, maxChunk + STORED_OVERHEAD)];
    }
}
