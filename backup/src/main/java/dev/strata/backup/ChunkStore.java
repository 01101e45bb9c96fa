package dev.strata.backup;

import dev.strata.common.CrashPoint;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Chunks on the target: each at {@code chunks/ID[0..2]/ID}, or many together in a pack at
 * {@code packs/PACK[0..2]/PACK}, where a manifest's {@link Manifest.ChunkRef} says at which offset
 * and length. A pack is the sealed chunks one after the other, each sealed as a chunk of its own
 * is (its ID the AAD), so a chunk read from a pack is checked exactly as any other: against its
 * ID, before anyone uses its bytes, naming the file it belongs to when something is wrong.
 */
final class ChunkStore {
    static final String PREFIX = "chunks/";
    static final String PACK_PREFIX = "packs/";
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    /** More than a stored chunk adds to its plaintext: 2 header bytes, a 12-byte nonce, a 16-byte tag. */
    private static final int STORED_OVERHEAD = 64;
    private static final SecureRandom RANDOM = new SecureRandom();

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

    static String packKey(String pack) {
        return PACK_PREFIX + pack.substring(0, 2) + "/" + pack;
    }

    /** A new pack's name: random, so two backups filling packs at once never pick the same. */
    static String newPackName() {
        byte[] name = new byte[32];
        RANDOM.nextBytes(name);
        return HexFormat.of().formatHex(name);
    }

    static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** A chunk's ref as a manifest may hold it: a valid ID and size and, when packed, a place that could hold it. */
    static boolean isValidRef(Manifest.ChunkRef ref, int maxChunk) {
        boolean sized = isValidId(ref.id()) && ref.size() > 0 && ref.size() <= maxChunk;
        if (!ref.isPacked()) {
            return sized && ref.offset() == 0 && ref.stored() == 0;
        }
        return sized && isValidId(ref.pack()) && ref.offset() >= 0 && ref.stored() > 0
                && ref.stored() <= (long) maxChunk + STORED_OVERHEAD;
    }

    /** {@link #isValidRef} with this store's largest chunk. */
    boolean isValid(Manifest.ChunkRef ref) {
        return isValidRef(ref, maxChunk);
    }

    /** The ID a chunk of these bytes has on this target (keyed when the target is encrypted). */
    String idOf(byte[] data, int offset, int length) {
        return codec.chunkId(data, offset, length);
    }

    /** Whether a stored chunk that no manifest references is whole ({@link BackupTarget#orphansAreWhole}). */
    boolean orphansAreWhole() {
        return target.orphansAreWhole();
    }

    /** Whether chunks of every size go into packs ({@link BackupTarget#packsEveryChunk}). */
    boolean packsEveryChunk() {
        return target.packsEveryChunk();
    }

    /** Makes every chunk stored so far durable: called before a manifest names them. */
    void flush() throws IOException {
        target.flush();
    }

    String url() {
        return target.url();
    }

    /** When the object at {@code key} (a chunk's {@link #key}, a pack's {@link #packKey}) was stored. */
    Instant modified(String key) throws IOException {
        return target.modified(key);
    }

    /**
     * Deletes a chunk or a pack by its key; returns its size. NoSuchFileException when someone else
     * deleted it first.
     */
    long delete(String key) throws IOException {
        long size = target.size(key);
        target.delete(key);
        return size;
    }

    /** Removes what writes a crash cut off before {@code before} left behind. */
    void sweepInterrupted(Instant before) throws IOException {
        target.sweepInterrupted(before);
    }

    /** The IDs of every chunk stored as an object of its own; stray files under chunks/ are ignored. */
    Set<String> listIds() throws IOException {
        return namesUnder(PREFIX, ChunkStore::key);
    }

    /** Every pack stored, by name; stray files under packs/ are ignored. */
    Set<String> listPacks() throws IOException {
        return namesUnder(PACK_PREFIX, ChunkStore::packKey);
    }

    /** Every pack stored, by name, with its stored size; stray files under packs/ are ignored. */
    Map<String, Long> packSizes() throws IOException {
        Map<String, Long> sizes = new HashMap<>();
        target.listWithSizes(PACK_PREFIX).forEach((key, size) -> {
            String name = nameIn(key, ChunkStore::packKey);
            if (name != null) {
                sizes.put(name, size);
            }
        });
        return sizes;
    }

    private Set<String> namesUnder(String prefix, UnaryOperator<String> keyOf) throws IOException {
        Set<String> names = new HashSet<>();
        for (String key : target.list(prefix)) {
            String name = nameIn(key, keyOf);
            if (name != null) {
                names.add(name);
            }
        }
        return names;
    }

    /** The chunk's or pack's name in {@code key}, null for a stray file. */
    private static String nameIn(String key, UnaryOperator<String> keyOf) {
        String name = key.substring(key.lastIndexOf('/') + 1);
        return isValidId(name) && key.equals(keyOf.apply(name)) ? name : null;
    }

    /** Seals (in {@code scratch}, as {@link ChunkCodec#seal} says) and stores a chunk under its ID; returns the stored size. */
    long write(String id, byte[] data, int offset, int length, byte[] scratch) throws IOException {
        byte[] sealed = codec.seal(data, offset, length, id, scratch);
        target.putBuffered(key(id), ByteBuffer.wrap(sealed)); // durable at the flush before the manifest
        CrashPoint.reach("backup.chunk.stored"); // an upload cut short: chunks without a manifest
        return sealed.length;
    }

    /**
     * The stored form of a chunk that goes into a pack, written into {@code out}, which holds
     * {@link #sealedRoom} of it ({@link #write} says what {@code scratch} is); returns its length.
     */
    int sealInto(String id, byte[] data, int offset, int length, byte[] scratch, byte[] out) {
        return codec.sealInto(data, offset, length, id, scratch, out);
    }

    /** What {@link #sealInto} may write for a chunk of {@code length} bytes. */
    int sealedRoom(int length) {
        return codec.storedBytes(length);
    }

    /** Stores a pack of sealed chunks, the first {@code length} bytes of {@code pack}, under its name. */
    void writePack(String name, byte[] pack, int length) throws IOException {
        target.putBuffered(packKey(name), ByteBuffer.wrap(pack, 0, length)); // durable at the flush before the manifest
        CrashPoint.reach("backup.chunk.stored");
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
        return readAs(ref, where(ref, file), reuse);
    }

    /** {@link #read}, its errors naming the chunk as {@code where} says: an index's entry, not a file's chunk. */
    ByteBuffer readAs(Manifest.ChunkRef ref, String where, byte[] reuse) throws IOException {
        if (!isValid(ref)) {
            throw new BackupException(BackupException.Kind.CORRUPT, where + ": not a valid chunk reference");
        }
        return open(ref, readStored(ref, where, reuse), where);
    }

    /**
     * A pack's stored bytes, whole: a repack copies the chunks still referenced out of it. A pack
     * is at most a few MiB ({@link PackFiller#PACK_BYTES} and one chunk).
     */
    byte[] readPack(String pack) throws IOException {
        try {
            return target.get(packKey(pack));
        } catch (NoSuchFileException e) {
            throw new BackupException(BackupException.Kind.MISSING_CHUNK, "pack " + pack + " is missing from "
                    + target.url());
        }
    }

    /**
     * {@code length} stored bytes of a pack from {@code offset}, in {@code reuse} when it is big
     * enough: the chunks a verify checks there, read at once. A missing pack is a
     * {@link java.nio.file.NoSuchFileException}, one that ends before them an {@link EOFException}.
     */
    ByteBuffer readPackSpan(String pack, long offset, int length, byte[] reuse) throws IOException {
        return target.getRange(packKey(pack), offset, length, reuse);
    }

    /**
     * A packed chunk's checked plaintext, out of a span of its pack that {@link #readPackSpan} read
     * from {@code spanStart}; the caller made sure the span holds it and the ref {@link #isValid}.
     */
    ByteBuffer openInSpan(Manifest.ChunkRef ref, String file, ByteBuffer span, long spanStart) throws BackupException {
        int at = span.arrayOffset() + span.position() + (int) (ref.offset() - spanStart);
        return open(ref, ByteBuffer.wrap(span.array(), at, ref.stored()).slice(), where(ref, file));
    }

    private static String where(Manifest.ChunkRef ref, String file) {
        return "chunk " + ref.id() + " of file " + file;
    }

    /** The plaintext of a chunk's stored form, checked against its ref ({@code where} names it for errors). */
    ByteBuffer open(Manifest.ChunkRef ref, ByteBuffer stored, String where) throws BackupException {
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

    private ByteBuffer readStored(Manifest.ChunkRef ref, String where, byte[] reuse) throws IOException {
        if (!ref.isPacked()) {
            try {
                return target.get(key(ref.id()), bigEnough(reuse, ref.size()));
            } catch (NoSuchFileException e) {
                throw new BackupException(BackupException.Kind.MISSING_CHUNK, where + " is missing from " + target.url());
            }
        }
        try {
            return target.getRange(packKey(ref.pack()), ref.offset(), ref.stored(), bigEnough(reuse, ref.size()));
        } catch (NoSuchFileException e) {
            throw new BackupException(BackupException.Kind.MISSING_CHUNK, where + ": its pack " + ref.pack()
                    + " is missing from " + target.url());
        } catch (EOFException e) {
            throw new BackupException(BackupException.Kind.CORRUPT, where + " is corrupt: its pack " + ref.pack()
                    + " ends before the chunk does");
        }
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
