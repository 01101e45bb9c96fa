package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A call's secrets as backup secrets: what is taken, what is refused (naming the key), what is never shown. */
class BackupSecretsTest {
    @Test
    void takesItsOwnKeysAndShowsNoValue() throws Exception {
        BackupSecrets s = BackupSecrets.from(Map.of("AWS_ACCESS_KEY_ID", "id-1", "AWS_SECRET_ACCESS_KEY", "s3cr3t",
                "backupKey", "pass phrase", "somethingElse", "x"));
        assertEquals("id-1", s.accessKeyId());
        assertEquals("s3cr3t", s.secretAccessKey());
        assertNull(s.sessionToken());
        assertArrayEquals("pass phrase".getBytes(StandardCharsets.UTF_8), s.key());
        assertFalse(s.isEmpty());
        assertEquals("BackupSecrets[AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, backupKey]", s.toString());
        assertFalse(s.toString().contains("s3cr3t") || s.toString().contains("phrase"));

        BackupSecrets ca = BackupSecrets.from(Map.of("AWS_CERT", "-----BEGIN CERTIFICATE-----…"));
        assertEquals("-----BEGIN CERTIFICATE-----…", ca.caCert());
        assertFalse(ca.isEmpty(), "a CA from the call");
        assertEquals("BackupSecrets[AWS_CERT]", ca.toString());
        assertEquals("-----BEGIN CERTIFICATE-----…", ca.orKey(new byte[] {1}).caCert(), "kept beside the node's key");

        BackupSecrets none = BackupSecrets.from(Map.of("unrelated", "v"));
        assertTrue(none.isEmpty());
        assertEquals(BackupSecrets.NONE, none);
        assertArrayEquals(new byte[] {1}, none.orKey(new byte[] {1}).key(), "the node's key behind the call's");
        assertArrayEquals("pass phrase".getBytes(StandardCharsets.UTF_8), s.orKey(new byte[] {1}).key(),
                "the call's key wins");
    }

    @Test
    void halfACredentialOrAnEmptyValueIsRefusedNamingTheKey() {
        assertRefused("AWS_SECRET_ACCESS_KEY", Map.of("AWS_ACCESS_KEY_ID", "id-1"));
        assertRefused("AWS_ACCESS_KEY_ID", Map.of("AWS_SECRET_ACCESS_KEY", "s3cr3t"));
        assertRefused("AWS_SESSION_TOKEN", Map.of("AWS_SESSION_TOKEN", "tok-123"));
        assertRefused("backupKey", Map.of("backupKey", ""));
        assertRefused("AWS_CERT", Map.of("AWS_CERT", ""));
    }

    private static void assertRefused(String key, Map<String, String> secrets) {
        BackupException e = assertThrows(BackupException.class, () -> BackupSecrets.from(secrets));
        assertEquals(BackupException.Kind.INVALID, e.kind());
        assertTrue(e.getMessage().contains(key), e.getMessage());
        secrets.values().forEach(v -> assertTrue(v.isEmpty() || !e.getMessage().contains(v), e.getMessage()));
    }
}
