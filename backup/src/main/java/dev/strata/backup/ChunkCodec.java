package dev.strata.backup;

import io.airlift.compress.zstd.ZstdCompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;

/**
 * Turns plaintext into stored objects and back, for chunks and manifests alike.
 *
 * <p>Object format: byte 0 is the format version (1), byte 1 the flags (bit 0: zstd-compressed,
 * bit 1: encrypted), then either the payload or, encrypted, a 12-byte nonce and the AES-256-GCM
 * ciphertext of the payload with the object's AAD (a chunk's ID, a manifest's key), so an object
 * moved to another key does not open. Data that zstd cannot shrink is stored as it is.
 *
 * <p>A chunk's ID is the hex SHA-256 of its plaintext, or in an encrypted repository the hex
 * HMAC-SHA256 under the ID key, so that IDs reveal nothing of the content.
 */
final class ChunkCodec {
    private static final byte FORMAT = 1;
    private static final int FLAG_ZSTD = 1;
    private static final int FLAG_ENCRYPTED = 2;
    private static final int HEADER_BYTES = 2;
    private static final HexFormat HEX = HexFormat.of();

    private final RepositoryKeys keys;

    /** {@code keys} null: objects are stored unencrypted. */
    ChunkCodec(RepositoryKeys keys) {
        this.keys = keys;
    }

    String chunkId(byte[] data, int offset, int length) {
        try {
            if (keys == null) {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                sha.update(data, offset, length);
                return HEX.formatHex(sha.digest());
            }
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(keys.idKey());
            mac.update(data, offset, length);
            return HEX.formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks SHA-256 or HmacSHA256", e);
        }
    }

    byte[] seal(byte[] data, int offset, int length, String aad) {
        byte[] compressed = compress(data, offset, length);
        boolean shrank = compressed.length < length;
        byte[] payload = shrank ? compressed : Arrays.copyOfRange(data, offset, offset + length);
        int flags = (shrank ? FLAG_ZSTD : 0) | (keys != null ? FLAG_ENCRYPTED : 0);
        byte[] header = {FORMAT, (byte) flags};
        if (keys == null) {
            byte[] out = new byte[HEADER_BYTES + payload.length];
            System.arraycopy(header, 0, out, 0, HEADER_BYTES);
            System.arraycopy(payload, 0, out, HEADER_BYTES, payload.length);
            return out;
        }
        try {
            return Aead.seal(keys.encryptionKey(), aad.getBytes(StandardCharsets.UTF_8), header, payload, 0, payload.length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }

    /**
     * The plaintext of a stored object, at most {@code maxPlain} bytes. Throws CORRUPT with the
     * reason only; callers add which object and which file.
     */
    byte[] open(byte[] stored, String aad, int maxPlain) throws BackupException {
        if (stored.length < HEADER_BYTES || stored[0] != FORMAT) {
            throw corrupt("unknown object format");
        }
        int flags = stored[1];
        if ((flags & ~(FLAG_ZSTD | FLAG_ENCRYPTED)) != 0) {
            throw corrupt("unknown flags " + flags);
        }
        // Refuse plaintext objects in an encrypted repository: whoever can write the target could
        // otherwise slip in a manifest of their choosing.
        if (((flags & FLAG_ENCRYPTED) != 0) != (keys != null)) {
            throw corrupt(keys != null ? "not encrypted, in an encrypted repository" : "encrypted, in an unencrypted repository");
        }
        byte[] payload = keys == null ? Arrays.copyOfRange(stored, HEADER_BYTES, stored.length) : decrypt(stored, aad);
        return (flags & FLAG_ZSTD) != 0 ? decompress(payload, maxPlain) : checkSize(payload, maxPlain);
    }

    private byte[] decrypt(byte[] stored, String aad) throws BackupException {
        try {
            return Aead.open(keys.encryptionKey(), aad.getBytes(StandardCharsets.UTF_8), stored, HEADER_BYTES);
        } catch (GeneralSecurityException e) {
            throw corrupt("decryption failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static byte[] compress(byte[] data, int offset, int length) {
        ZstdCompressor compressor = new ZstdCompressor();
        byte[] out = new byte[compressor.maxCompressedLength(length)];
        int written = compressor.compress(data, offset, length, out, 0, out.length);
        return Arrays.copyOf(out, written);
    }

    private static byte[] decompress(byte[] payload, int maxPlain) throws BackupException {
        try {
            long size = ZstdDecompressor.getDecompressedSize(payload, 0, payload.length);
            if (size < 0 || size > maxPlain) {
                throw corrupt("a compressed size of " + size + " bytes is unknown or over the limit of " + maxPlain);
            }
            byte[] out = new byte[(int) size];
            int written = new ZstdDecompressor().decompress(payload, 0, payload.length, out, 0, out.length);
            if (written != size) {
                throw corrupt("decompressed to " + written + " bytes, not the " + size + " announced");
            }
            return out;
        } catch (RuntimeException e) { // MalformedInputException, or any other slip on hostile input
            throw corrupt("decompression failed: " + e.getMessage());
        }
    }

    private static byte[] checkSize(byte[] plain, int maxPlain) throws BackupException {
        if (plain.length > maxPlain) {
            throw corrupt(plain.length + " bytes, over the limit of " + maxPlain);
        }
        return plain;
    }

    private static BackupException corrupt(String reason) {
        return new BackupException(BackupException.Kind.CORRUPT, reason);
    }
}
