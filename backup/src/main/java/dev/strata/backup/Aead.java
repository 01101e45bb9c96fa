package dev.strata.backup;

import java.security.GeneralSecurityException;
import java.security.ProviderException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM (from {@link CryptoPrimitives}) with a fresh random 12-byte nonce per message, stored
 * in front of the ciphertext. Random nonces are safe here: a repository seals far fewer than 2^32
 * objects per key.
 */
final class Aead {
    static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Aead() {}

    /** What {@link #sealInto} writes for {@code length} bytes of plaintext after a header of {@code headerBytes}. */
    static int sealedBytes(int headerBytes, int length) {
        return headerBytes + NONCE_BYTES + TAG_BITS / 8 + length;
    }

    /** {@code header || nonce || ciphertext-with-tag}; the header is stored in clear, not authenticated. */
    static byte[] seal(CryptoPrimitives crypto, SecretKey key, byte[] aad, byte[] header, byte[] plain, int offset,
            int length)
            throws GeneralSecurityException {
        byte[] out = new byte[sealedBytes(header.length, length)];
        sealInto(crypto, key, aad, header, plain, offset, length, out);
        return out;
    }

    /** {@link #seal} into the start of {@code out}, which holds at least {@link #sealedBytes}; returns that length. */
    static int sealInto(CryptoPrimitives crypto, SecretKey key, byte[] aad, byte[] header, byte[] plain, int offset,
            int length, byte[] out) throws GeneralSecurityException {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        Cipher cipher = crypto.aesGcm(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD(aad);
        System.arraycopy(header, 0, out, 0, header.length);
        System.arraycopy(nonce, 0, out, header.length, NONCE_BYTES);
        int written = cipher.doFinal(plain, offset, length, out, header.length + NONCE_BYTES);
        if (written != length + TAG_BITS / 8) {
            throw new GeneralSecurityException("AES-GCM wrote " + written + " bytes for " + length);
        }
        return header.length + NONCE_BYTES + written;
    }

    /** Opens {@code nonce || ciphertext} from {@code offset} to {@code end}; a wrong key or any flipped bit throws. */
    static byte[] open(CryptoPrimitives crypto, SecretKey key, byte[] aad, byte[] sealed, int offset, int end)
            throws GeneralSecurityException {
        if (end - offset < NONCE_BYTES + TAG_BITS / 8) {
            throw new GeneralSecurityException("too short to be sealed");
        }
        GCMParameterSpec nonce = new GCMParameterSpec(TAG_BITS, sealed, offset, NONCE_BYTES);
        Cipher cipher = crypto.aesGcm(Cipher.DECRYPT_MODE, key, nonce);
        cipher.updateAAD(aad);
        int start = offset + NONCE_BYTES;
        try {
            return cipher.doFinal(sealed, start, end - start);
        } catch (ProviderException e) { // NSS may report a bad tag this way rather than AEADBadTagException
            throw new GeneralSecurityException("not opened: " + e.getMessage(), e);
        }
    }
}
