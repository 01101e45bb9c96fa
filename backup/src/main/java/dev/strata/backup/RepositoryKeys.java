package dev.strata.backup;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The two keys of an encrypted repository, derived from the caller's secret with PBKDF2: one
 * encrypts objects, the other keys the HMAC that names chunks, so chunk IDs say nothing about the
 * content to someone who can list the target.
 */
record RepositoryKeys(SecretKey encryptionKey, SecretKey idKey) {
    static final int DEFAULT_ITERATIONS = 200_000;
    static final int SALT_BYTES = 16;
    private static final byte[] KEY_CHECK_TEXT = "strata-backup key check v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEY_CHECK_AAD = "config".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * The secret's bytes become chars one-to-one (ISO-8859-1), so any key file works, binary or not,
     * and a passphrase in plain ASCII gives the same keys as other tools reading it as text.
     */
    static RepositoryKeys derive(byte[] secret, byte[] salt, int iterations) {
        char[] chars = new String(secret, StandardCharsets.ISO_8859_1).toCharArray();
        PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, 512);
        try {
            byte[] derived = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
            try {
                return new RepositoryKeys(new SecretKeySpec(derived, 0, 32, "AES"),
                        new SecretKeySpec(derived, 32, 32, "HmacSHA256"));
            } finally {
                Arrays.fill(derived, (byte) 0);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks PBKDF2WithHmacSHA256", e);
        } finally {
            spec.clearPassword();
            Arrays.fill(chars, '\0');
        }
    }

    static byte[] newSalt() {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return salt;
    }

    /** A known text sealed with the encryption key: opening it tells a wrong key from damaged data. */
    String keyCheck() {
        try {
            byte[] sealed = Aead.seal(CryptoPrimitives.preferred(), encryptionKey, KEY_CHECK_AAD, new byte[0],
                    KEY_CHECK_TEXT, 0, KEY_CHECK_TEXT.length);
            return Base64.getEncoder().encodeToString(sealed);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }

    boolean opens(String keyCheck) {
        try {
            byte[] sealed = Base64.getDecoder().decode(keyCheck);
            byte[] plain = Aead.open(CryptoPrimitives.preferred(), encryptionKey, KEY_CHECK_AAD, sealed, 0, sealed.length);
            return Arrays.equals(plain, KEY_CHECK_TEXT);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
