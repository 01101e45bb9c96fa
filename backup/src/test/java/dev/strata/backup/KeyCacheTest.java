package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    @Test
    void aSaltAndSecretThatRunTogetherIntoTheSameBytesDeriveApart() {
        byte[] salt = RepositoryKeys.newSalt();
        byte[] longerSalt = java.util.Arrays.copyOf(salt, salt.length + 1);
        longerSalt[salt.length] = SECRET[0];
        byte[] shorterSecret = java.util.Arrays.copyOfRange(SECRET, 1, SECRET.length);

        RepositoryKeys keys = KeyCache.derive(SECRET, salt, 10_000);
        RepositoryKeys other = KeyCache.derive(shorterSecret, longerSalt, 10_000);

        assertNotSame(keys, other);
        assertFalse(keys.opens(other.keyCheck()), "other keys");
    }

    @Test
    void twoThreadsAskingAtOnceShareOneDerivation() throws Exception {
        byte[] salt = RepositoryKeys.newSalt();
        CountDownLatch start = new CountDownLatch(1);
        // a million rounds: the second thread asks well before the first has derived
        Callable<RepositoryKeys> derive = () -> {
            start.await();
            return KeyCache.derive(SECRET, salt, 1_000_000);
        };
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<RepositoryKeys> first = threads.submit(derive);
            Future<RepositoryKeys> second = threads.submit(derive);
            start.countDown();

            assertSame(first.get(), second.get());
        } finally {
            threads.shutdownNow();
        }
    }
}
