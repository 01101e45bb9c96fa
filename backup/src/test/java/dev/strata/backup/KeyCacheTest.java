package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyCacheTest {
    private static final byte[] SECRET = "key-cache secret".getBytes(StandardCharsets.UTF_8);

    @Test
    void theSameSecretSaltAndRoundsGiveTheKeysDerivedBefore() {
        byte[] salt = RepositoryKeys.newSalt();
        RepositoryKeys first = KeyCache.derive(SECRET, salt, 10_000);

        assertSame(first, KeyCache.derive(SECRET.clone(), salt.clone(), 10_000));
        assertTrue(first.opens(RepositoryKeys.derive(SECRET, salt, 10_000).keyCheck()), "the keys PBKDF2 gives");
    }

    @Test
    void anotherSecretSaltOrRoundsDerivesAgain() {
        byte[] salt = RepositoryKeys.newSalt();
        RepositoryKeys keys = KeyCache.derive(SECRET, salt, 10_000);
        byte[] otherSecret = "key-cache secreT".getBytes(StandardCharsets.UTF_8);

        for (RepositoryKeys other : new RepositoryKeys[] {KeyCache.derive(otherSecret, salt, 10_000),
                KeyCache.derive(SECRET, RepositoryKeys.newSalt(), 10_000), KeyCache.derive(SECRET, salt, 10_001)}) {
            assertNotSame(keys, other);
            assertFalse(keys.opens(other.keyCheck()), "other keys");
        }
    }
}
