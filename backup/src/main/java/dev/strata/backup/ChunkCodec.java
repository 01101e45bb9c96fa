package dev.strata.backup;

import io.airlift.compress.zstd.ZstdCompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;

/**
 * Turns plaintext into stored objects and back, for chunks and manifests alike.
 *
 * <p>Object format: byte 0 is the format version (1), byte 1 the flags (bit 0: zstd-compressed,
 * bit 1: encrypted, bit 2: zstd-compressed in blocks, {@link ZstdBlocks}: a manifest), then
 * either the payload or, encrypted, a 12-byte nonce and the AES-256-GCM ciphertext of the payload
 * with the object's AAD (a chunk's ID, a manifest's key), so an object moved to another key does
 * not open. Data that zstd cannot shrink is stored as it is, and data that looks random
 * ({@link Compressibility}) is not given to zstd at all.
 *
 * <p>A chunk's ID is the hex SHA-256 of its plaintext, or in an encrypted repository the hex
 * HMAC-SHA256 under the ID key, so that IDs reveal nothing of the content. The primitives come from
 * {@link CryptoPrimitives}.
 */
final class ChunkCodec {
    private static final byte FORMAT = 1;
    private static final int FLAG_ZSTD = 1;
    private static final int FLAG_ENCRYPTED = 2;
    /** Compressed in blocks as it was written ({@link ZstdBlocks}); never with {@link #FLAG_ZSTD}. */
    private static final int FLAG_ZSTD_BLOCKS = 4;
    private static final int HEADER_BYTES = 2;
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] NO_SCRATCH = new byte[0];

    private final RepositoryKeys keys;
    private final CryptoPrimitives crypto;

    /** {@code keys} null: objects are stored unencrypted. */
    ChunkCodec(RepositoryKeys keys) {
        this(keys, CryptoPrimitives.preferred());
    }

    ChunkCodec(RepositoryKeys keys, CryptoPrimitives crypto) {
        this.keys = keys;
        this.crypto = crypto;
    }

    String chunkId(byte[] data, int offset, int length) {
        try {
            if (keys == null) {
                MessageDigest sha = crypto.sha256();
                sha.update(data, offset, length);
                return HEX.formatHex(sha.digest());
            }
            Mac mac = crypto.hmacSha256(keys.idKey());
            mac.update(data, offset, length);
            return HEX.formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(crypto.name() + " lacks SHA-256 or HmacSHA256", e);
        }
    }

    /** The stored form of {@code data} (a manifest's: a rare, one-off call). */
    byte[] seal(byte[] data, int offset, int length, String aad) {
        return seal(data, offset, length, aad, NO_SCRATCH);
    }

    /** What {@link #seal(byte[], int, int, String, byte[])} needs as scratch for {@code length} bytes. */
    static int scratchBytes(int length) {
        return new ZstdCompressor().maxCompressedLength(length);
    }

    /**
     * The stored form of {@code data}, where the only array allocated is the result when
     * {@code scratch} holds {@link #scratchBytes} (else a scratch array is allocated for this call):
     * zstd writes there. A backup of a GiB made four copies of every chunk before, and the driver's
     * small heap spent a third of the backup collecting them.
     */
    byte[] seal(byte[] data, int offset, int length, String aad, byte[] scratch) {
        Payload payload = compressed(data, offset, length, scratch);
        byte[] out = new byte[storedBytes(payload.size())];
        storedInto(payload, aad, out);
        return out;
    }

    /** The most the stored form of {@code length} bytes takes. */
    int storedBytes(int length) {
        return keys == null ? HEADER_BYTES + length : Aead.sealedBytes(HEADER_BYTES, length);
    }

    /**
     * {@link #seal} into the start of {@code out}, which holds at least {@link #storedBytes} of
     * {@code length}; returns the stored length. A backup's packed chunks are sealed into arrays used
     * again, chunk after chunk.
     */
    int sealInto(byte[] data, int offset, int length, String aad, byte[] scratch, byte[] out) {
        return storedInto(compressed(data, offset, length, scratch), aad, out);
    }

    /** What is stored, before the header and the encryption: compressed (in scratch) if that shrank it. */
    private record Payload(int compression, byte[] bytes, int from, int size) {}

    private static Payload compressed(byte[] data, int offset, int length, byte[] scratch) {
        if (Compressibility.worthTrying(data, offset, length)) {
            ZstdCompressor compressor = new ZstdCompressor();
            int room = compressor.maxCompressedLength(length);
            byte[] buffer = scratch.length >= room ? scratch : new byte[room];
            int compressed = compressor.compress(data, offset, length, buffer, 0, buffer.length);
            if (compressed < length) {
                return new Payload(FLAG_ZSTD, buffer, 0, compressed);
            }
        }
        return new Payload(0, data, offset, length);
    }

    /**
     * {@code value} as JSON, stored as a chunk is: a manifest, an index. Serialised straight into
     * compressed blocks ({@link ZstdBlocks}): no whole copy of the JSON is ever in memory.
     */
    byte[] sealJson(Object value, String aad) throws IOException {
        ZstdBlocks.Writer blocks = new ZstdBlocks.Writer();
        Json.write(value, blocks);
        return seal(blocks, aad);
    }

    /** What {@link #sealJson} stored, at most {@code maxPlain} bytes of JSON; CORRUPT naming {@code what}. */
    <T> T openJson(byte[] stored, String aad, int maxPlain, Class<T> type, String what) throws BackupException {
        byte[] json;
        try {
            ByteBuffer plain = open(stored, aad, maxPlain);
            json = new byte[plain.remaining()];
            plain.get(json);
        } catch (BackupException e) {
            throw new BackupException(BackupException.Kind.CORRUPT, what + " is corrupt: " + e.getMessage());
        }
        return Json.read(json, type, what);
    }

    /** The stored form of a payload compressed as it was written ({@link ZstdBlocks}). */
    byte[] seal(ZstdBlocks.Writer blocks, String aad) {
        blocks.finish();
        byte[] out = new byte[storedBytes(blocks.size())];
        storedInto(new Payload(FLAG_ZSTD_BLOCKS, blocks.bytes(), 0, blocks.size()), aad, out);
        return out;
    }

    private int storedInto(Payload payload, String aad, byte[] out) {
        int flags = payload.compression() | (keys != null ? FLAG_ENCRYPTED : 0);
        byte[] header = {FORMAT, (byte) flags};
        if (keys == null) {
            System.arraycopy(header, 0, out, 0, HEADER_BYTES);
            System.arraycopy(payload.bytes(), payload.from(), out, HEADER_BYTES, payload.size());
            return HEADER_BYTES + payload.size();
        }
        try {
            return Aead.sealInto(crypto, keys.encryptionKey(), aad.getBytes(StandardCharsets.UTF_8), header,
                    payload.bytes(), payload.from(), payload.size(), out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }

    /**
     * The plaintext of a stored object, at most {@code maxPlain} bytes: a view of {@code stored}
     * itself when the object is neither encrypted nor compressed (no copy: a restore reads a GiB
     * chunk by chunk, and every copy was garbage for the small heap to collect). Throws CORRUPT with
     * the reason only; callers add which object and which file.
     */
    ByteBuffer open(byte[] stored, String aad, int maxPlain) throws BackupException {
        return open(ByteBuffer.wrap(stored), aad, maxPlain);
    }

    ByteBuffer open(ByteBuffer stored, String aad, int maxPlain) throws BackupException {
        byte[] bytes = stored.array();
        int from = stored.arrayOffset() + stored.position();
        int end = from + stored.remaining();
        if (end - from < HEADER_BYTES || bytes[from] != FORMAT) {
            throw corrupt("unknown object format");
        }
        int flags = bytes[from + 1];
        if ((flags & ~(FLAG_ZSTD | FLAG_ENCRYPTED | FLAG_ZSTD_BLOCKS)) != 0
                || (flags & (FLAG_ZSTD | FLAG_ZSTD_BLOCKS)) == (FLAG_ZSTD | FLAG_ZSTD_BLOCKS)) {
            throw corrupt("unknown flags " + flags);
        }
        // Refuse plaintext objects in an encrypted repository: whoever can write the target could
        // otherwise slip in a manifest of their choosing.
        if (((flags & FLAG_ENCRYPTED) != 0) != (keys != null)) {
            throw corrupt(keys != null ? "not encrypted, in an encrypted repository" : "encrypted, in an unencrypted repository");
        }
        ByteBuffer payload = keys == null ? ByteBuffer.wrap(bytes, from + HEADER_BYTES, end - from - HEADER_BYTES)
                : ByteBuffer.wrap(decrypt(bytes, from + HEADER_BYTES, end, aad));
        if ((flags & FLAG_ZSTD_BLOCKS) != 0) {
            return ByteBuffer.wrap(decompressBlocks(payload, maxPlain));
        }
        return (flags & FLAG_ZSTD) != 0 ? ByteBuffer.wrap(decompress(payload, maxPlain)) : checkSize(payload, maxPlain);
    }

    private byte[] decrypt(byte[] stored, int from, int end, String aad) throws BackupException {
        try {
            return Aead.open(crypto, keys.encryptionKey(), aad.getBytes(StandardCharsets.UTF_8), stored, from, end);
        } catch (GeneralSecurityException e) {
            throw corrupt("decryption failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static byte[] decompress(ByteBuffer payload, int maxPlain) throws BackupException {
        byte[] in = payload.array();
        int from = payload.arrayOffset() + payload.position();
        int length = payload.remaining();
        try {
            long size = ZstdDecompressor.getDecompressedSize(in, from, length);
            if (size < 0 || size > maxPlain) {
                throw corrupt("a compressed size of " + size + " bytes is unknown or over the limit of " + maxPlain);
            }
            byte[] out = new byte[(int) size];
            int written = new ZstdDecompressor().decompress(in, from, length, out, 0, out.length);
            if (written != size) {
                throw corrupt("decompressed to " + written + " bytes, not the " + size + " announced");
            }
            return out;
        } catch (RuntimeException e) { // MalformedInputException, or any other slip on hostile input
            throw corrupt("decompression failed: " + e.getMessage());
        }
    }

    private static byte[] decompressBlocks(ByteBuffer payload, int maxPlain) throws BackupException {
        try {
            return ZstdBlocks.decompress(payload.array(), payload.arrayOffset() + payload.position(),
                    payload.remaining(), maxPlain);
        } catch (RuntimeException e) { // MalformedInputException, or any other slip on hostile input
            throw corrupt("decompression failed: " + e.getMessage());
        }
    }

    private static ByteBuffer checkSize(ByteBuffer plain, int maxPlain) throws BackupException {
        if (plain.remaining() > maxPlain) {
            throw corrupt(plain.remaining() + " bytes, over the limit of " + maxPlain);
        }
        return plain;
    }

    private static BackupException corrupt(String reason) {
        return new BackupException(BackupException.Kind.CORRUPT, reason);
    }
}
