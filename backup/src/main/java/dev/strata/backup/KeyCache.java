package dev.strata.backup;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The repository keys this process derived lately. Every backup, restore and removal opens its
 * repository again, and each derivation is {@value RepositoryKeys#DEFAULT_ITERATIONS} rounds of
 * PBKDF2: about half a second of one core in the driver's C1-only JVM the first time, a tenth of
 * that once compiled. An entry is found by the salt, the rounds and a SHA-256 of salt and secret,
 * so another secret, or a target created anew (a new salt), derives again. The digest gives whoever
 * can read the process's memory nothing the keys beside it do not.
 */
final class KeyCache {
    private static final int ENTRIES = 16;
    private static final HexFormat HEX = HexFormat.of();

    private record Derivation(String salt, int iterations, String secretDigest) {}

    private static final Map<Derivation, RepositoryKeys> RECENT = new LinkedHashMap<>(ENTRIES, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Derivation, RepositoryKeys> eldest) {
            return size() > ENTRIES;
        }
    };

    private KeyCache() {}

    /** {@link RepositoryKeys#derive}, or the keys it gave for the same secret, salt and rounds. */
    static RepositoryKeys derive(byte[] secret, byte[] salt, int iterations) {
        Derivation derivation = new Derivation(Base64.getEncoder().encodeToString(salt), iterations,
                digest(salt, secret));
        synchronized (RECENT) {
            RepositoryKeys known = RECENT.get(derivation);
            if (known != null) {
                return known;
            }
        }
        RepositoryKeys keys = RepositoryKeys.derive(secret, salt, iterations); // outside the lock: half a second
        synchronized (RECENT) {
            RECENT.put(derivation, keys);
        }
        return keys;
    }

    private static String digest(byte[] salt, byte[] secret) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(salt);
            return HEX.formatHex(sha.digest(secret));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
