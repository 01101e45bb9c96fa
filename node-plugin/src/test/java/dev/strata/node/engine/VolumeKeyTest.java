package dev.strata.node.engine;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import io.grpc.Status.Code;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VolumeKeyTest {
    private static final String SECRET = "correct horse battery staple";

    @Test
    void theKeyIsTheSecretEntrysBytesAndNeverPrints() {
        VolumeKey key = VolumeKey.fromSecrets("secrets", Map.of(VolumeKey.SECRET_KEY, SECRET, "other", "x"));
        assertTrue(key.present());
        assertArrayEquals(SECRET.getBytes(StandardCharsets.UTF_8), key.bytes());
        assertFalse(key.toString().contains(SECRET), key.toString());
        key.bytes()[0] = 0;
        assertArrayEquals(SECRET.getBytes(StandardCharsets.UTF_8), key.bytes(), "a caller changed the key");
    }

    @Test
    void noEntryIsNoKey() {
        VolumeKey none = VolumeKey.fromSecrets("secrets", Map.of("other", "x"));
        assertSame(VolumeKey.NONE, none);
        assertFalse(none.present());
    }

    @Test
    void anEmptyOrOversizedKeyIsRefusedWithItsLengthOnly() {
        assertCsi(Code.INVALID_ARGUMENT, "secrets.encryptionKey", () -> VolumeKey.fromSecrets("secrets",
                Map.of(VolumeKey.SECRET_KEY, "")));
        String huge = "s3cr3t".repeat(1000);
        CsiException e = assertCsi(Code.INVALID_ARGUMENT, "secrets.encryptionKey", () -> VolumeKey.fromSecrets(
                "secrets", Map.of(VolumeKey.SECRET_KEY, huge)));
        assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
        assertTrue(e.getMessage().contains("6000"), e.getMessage());
        assertEquals(VolumeKey.MAX_BYTES, VolumeKey.fromSecrets("secrets",
                Map.of(VolumeKey.SECRET_KEY, "k".repeat(VolumeKey.MAX_BYTES))).bytes().length);
    }
}
