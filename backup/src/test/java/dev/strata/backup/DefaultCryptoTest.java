package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.Security;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The JVM's SHA-256 (what the AWS SDK signs uploads with) and AES-GCM (what TLS seals records with)
 * by name become the preferred primitives', give the JDK's bytes through every way in, and are put
 * in once. {@link TlsOverDefaultCryptoTest} runs TLS over them.
 */
class DefaultCryptoTest {
    @BeforeEach
    void installed() {
        assumeTrue(CryptoPrimitives.preferred() != CryptoPrimitives.jdk(),
                "NSS is not usable here: the JDK's own primitives are the JVM's, and nothing is installed");
        assertTrue(DefaultCrypto.install());
    }

    @Test
    void aSecondInstallIsTheFirstOne() {
        assertTrue(DefaultCrypto.install());
        assertEquals(1, Arrays.stream(Security.getProviders()).filter(p -> p.getName().equals(DefaultCrypto.PROVIDER))
                .count());
        assertEquals(DefaultCrypto.PROVIDER, Security.getProviders()[0].getName(), "first in the JVM's list");
    }

    @Test
    void theJvmsSha256IsTheNativeOneAndGivesTheJdksBytes() throws Exception {
        MessageDigest byName = MessageDigest.getInstance(DefaultCrypto.SHA_256);
        assertEquals(DefaultCrypto.PROVIDER, byName.getProvider().getName());
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
        assertArrayEquals(expected, copy.digest(), "a clone goes on from where it was taken (TLS clones its handshake hash)");
    }

    /** As TLS uses it: a new nonce per record, the record's header as associated data, buffers sealed and opened in place. */
    @Test
    void theJvmsAesGcmIsTheNativeOneAndGivesTheJdksBytes() throws Exception {
        Cipher byName = Cipher.getInstance(DefaultCrypto.AES_GCM);
        assertEquals(DefaultCrypto.PROVIDER, byName.getProvider().getName());
        byte[] aad = {23, 3, 3, 0, 42};
        for (int keyBytes : new int[] {16, 32}) {
            SecretKey key = new SecretKeySpec(TestTrees.random(keyBytes, keyBytes), "AES");
            for (int size : new int[] {0, 1, 16, 4095, 16 << 10, (16 << 10) + 17}) {
                byte[] text = TestTrees.random(size, size + 7L);
                GCMParameterSpec nonce = new GCMParameterSpec(128, TestTrees.random(12, size));
                Cipher jdk = CryptoPrimitives.jdk().aesGcm(Cipher.ENCRYPT_MODE, key, nonce);
                assertEquals("SunJCE", jdk.getProvider().getName(), "the JDK's primitives stay the JDK's: the reference");
                jdk.updateAAD(aad);
                byte[] expected = jdk.doFinal(text);

                byName.init(Cipher.ENCRYPT_MODE, key, nonce);
                byName.updateAAD(aad);
                assertArrayEquals(expected, byName.doFinal(text), size + " bytes sealed, from an array");

                ByteBuffer record = ByteBuffer.allocate(expected.length);
                record.put(text).flip();
                Cipher inPlace = Cipher.getInstance(DefaultCrypto.AES_GCM); // one cipher seals with a key and nonce once
                inPlace.init(Cipher.ENCRYPT_MODE, key, nonce);
                inPlace.updateAAD(aad);
                ByteBuffer out = record.duplicate();
                out.limit(out.capacity());
                inPlace.doFinal(record, out);
                assertArrayEquals(expected, out.flip().array(), size + " bytes sealed in place, from a buffer");

                byName.init(Cipher.DECRYPT_MODE, key, nonce);
                byName.updateAAD(aad);
                ByteBuffer sealed = ByteBuffer.wrap(expected.clone());
                ByteBuffer opened = sealed.duplicate();
                assertEquals(size, byName.doFinal(sealed, opened));
                assertArrayEquals(text, Arrays.copyOf(opened.flip().array(), size), size + " bytes opened in place");

                byte[] tampered = expected.clone();
                tampered[tampered.length - 1] ^= 1;
                byName.init(Cipher.DECRYPT_MODE, key, nonce);
                byName.updateAAD(aad);
                assertThrows(AEADBadTagException.class, () -> byName.doFinal(tampered), size + " bytes, tag changed");
            }
        }
    }
}
