package dev.strata.backup;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM from the JDK with a fresh random 12-byte nonce per message, stored in front of the
 * ciphertext. Random nonces are safe here: a repository seals far fewer than 2^32 objects per key.
 */
final class Aead {
    static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Aead() {}

    /** {@code header || nonce || ciphertext-with-tag}; the header is stored in clear, not authenticated. */
    static byte[] seal(SecretKey key, byte[] aad, byte[] header, byte[] plain, int offset, int length)
            throws GeneralSecurityException {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD(aad);
        byte[] out = new byte[header.length + NONCE_BYTES + cipher.getOutputSize(length)];
        System.arraycopy(header, 0, out, 0, header.length);
        System.arraycopy(nonce, 0, out, header.length, NONCE_BYTES);
        int written = cipher.doFinal(plain, offset, length, out, header.length + NONCE_BYTES);
        return written == out.length - header.length - NONCE_BYTES ? out
                : Arrays.copyOf(out, header.length + NONCE_BYTES + written);
    }

    /** Opens {@code nonce || ciphertext} at {@code offset}; a wrong key or any flipped bit throws. */
    static byte[] open(SecretKey key, byte[] aad, byte[] sealed, int offset) throws GeneralSecurityException {
        if (sealed.length - offset < NONCE_BYTES + TAG_BITS / 8) {
            throw new GeneralSecurityException("too short to be sealed");
        }
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, offset, NONCE_BYTES));
        cipher.updateAAD(aad);
        int start = offset + NONCE_BYTES;
        return cipher.doFinal(sealed, start, sealed.length - start);
    }
}
