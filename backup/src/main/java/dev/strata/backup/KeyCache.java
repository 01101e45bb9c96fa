package dev.strata.backup;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The repository keys this process derived lately. Every backup, restore and removal opens its
 * repository again, and each derivation is {@value RepositoryKeys#DEFAULT_ITERATIONS} rounds of
 * PBKDF2: 0.8 to 1 s of one core in the driver's C1-only JVM, the first time and every time after
 * (measured in docs/benchmarks.md, "Keys kept per process"). An entry is found by the rounds and a
 * SHA-256 of salt and secret, so another secret, or a target created anew (a new salt), derives
 * again. The digest gives whoever can read the process's memory nothing the keys beside it do not.
 */
final class KeyCache {
    private static final int ENTRIES = 16;
    private static final HexFormat HEX = HexFormat.of();

    private record Derivation(int iterations, String saltAndSecretDigest) {}

    /** The derivations done or still running: a second caller waits for the one running. */
    private static final Map<Derivation, CompletableFuture<RepositoryKeys>> RECENT =
            new LinkedHashMap<>(ENTRIES, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Derivation, CompletableFuture<RepositoryKeys>> eldest) {
                    return size() > ENTRIES;
                }
            };

    private KeyCache() {}

    /**
     * {@link RepositoryKeys#derive}, or the keys it gave, or is giving another thread, for the same
     * secret, salt and rounds.
     */
    static RepositoryKeys derive(byte[] secret, byte[] salt, int iterations) {
        Derivation derivation = new Derivation(iterations, digest(salt, secret));
        CompletableFuture<RepositoryKeys> mine = new CompletableFuture<>();
        CompletableFuture<RepositoryKeys> known;
        synchronized (RECENT) {
            known = RECENT.putIfAbsent(derivation, mine);
        }
        if (known != null) {
            return known.join(); // done, or most of a second away: another thread derives it
        }
        try {
            RepositoryKeys keys = RepositoryKeys.derive(secret, salt, iterations); // outside the lock
            mine.complete(keys);
            return keys;
        } catch (RuntimeException e) {
            synchronized (RECENT) {
                RECENT.remove(derivation, mine);
            }
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private static String digest(byte[] salt, byte[] secret) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            // the salt's length first, so that no other salt and secret run together into the same bytes
            sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(salt.length).flip());
            sha.update(salt);
            return HEX.formatHex(sha.digest(secret));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
