package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.Security;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The JVM's SHA-256 by name becomes the preferred primitives' (what the AWS SDK signs uploads with),
 * gives the JDK's bytes through every way in, clones (TLS clones its handshake hash), and is put in once.
 */
class DefaultSha256Test {
    @Test
    void theJvmsSha256IsTheNativeOneAndGivesTheJdksBytes() throws Exception {
        assumeTrue(CryptoPrimitives.preferred() != CryptoPrimitives.jdk(),
                "NSS is not usable here: the JDK's own SHA-256 is the JVM's, and nothing is installed");
        assertTrue(DefaultSha256.install());
        assertTrue(DefaultSha256.install(), "a second install is the first one");
        assertEquals(1, Arrays.stream(Security.getProviders()).filter(p -> p.getName().equals(DefaultSha256.PROVIDER))
                .count());

        MessageDigest byName = MessageDigest.getInstance(DefaultSha256.ALGORITHM);
        assertEquals(DefaultSha256.PROVIDER, byName.getProvider().getName());
        MessageDigest jdk = CryptoPrimitives.jdk().sha256();
        assertEquals("SUN", jdk.getProvider().getName(), "the JDK's primitives stay the JDK's: the reference");
        for (int size : new int[] {0, 1, 63, 64, 4096, 128 << 10, 1 << 20}) {
            byte[] data = TestTrees.random(size, size);
            byName.update(data, 0, size);
            assertArrayEquals(jdk.digest(data), byName.digest(), size + " bytes, from an array");
            byName.update(ByteBuffer.wrap(data));
            assertArrayEquals(jdk.digest(data), byName.digest(), size + " bytes, from a buffer");
        }

        byName.update((byte) 's');
        MessageDigest copy = (MessageDigest) byName.clone();
        byName.update((byte) 't');
        copy.update((byte) 't');
        byte[] expected = jdk.digest(new byte[] {'s', 't'});
        assertArrayEquals(expected, byName.digest());
        assertArrayEquals(expected, copy.digest(), "a clone goes on from where it was taken");
    }
}
