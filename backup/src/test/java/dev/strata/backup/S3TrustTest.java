package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.testkit.S3Server;
import dev.strata.testkit.TestCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An S3 server under a private CA (S3Proxy over https, its certificate made by keytool): reached when
 * the call's secrets name the CA under AWS_CERT, refused with a clear error when they name none or
 * another, and refused when the certificate is not for the host, even though its CA is trusted.
 */
class S3TrustTest {
    @TempDir
    static Path tmp;

    private static TestCertificate certificate;
    private static TestCertificate otherCa;
    private static S3Server server;
    private static Path tree;

    @BeforeAll
    static void anHttpsServerUnderItsOwnCertificate() throws Exception {
        assumeTrue(Files.isExecutable(TestCertificate.keytool()),
                "no keytool in " + TestCertificate.keytool().getParent() + " to make certificates with");
        assumeTrue(System.getenv(BackupSecrets.CA_CERT) == null,
                "the environment sets " + BackupSecrets.CA_CERT + ", which a call without it would trust");
        certificate = TestCertificate.make(tmp, "s3", "ip:127.0.0.1");
        otherCa = TestCertificate.make(tmp, "other", "ip:127.0.0.1");
        server = S3Server.startHttps(Files.createDirectory(tmp.resolve("s3")), certificate);
        server.createBucket("backups");
        tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.writeRandom(tree.resolve("data.bin"), 3 << 20, 1);
        Files.writeString(tree.resolve("README"), "over https\n");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static BackupSecrets secrets(String caCert) throws BackupException {
        Map<String, String> secrets = new HashMap<>(Map.of(BackupSecrets.ACCESS_KEY_ID, S3Server.ACCESS_KEY,
                BackupSecrets.SECRET_ACCESS_KEY, S3Server.SECRET_KEY));
        if (caCert != null) {
            secrets.put(BackupSecrets.CA_CERT, caCert);
        }
        return BackupSecrets.from(secrets);
    }

    @Test
    void withItsCaInTheSecretsABackupIsStoredAndRestoredOverHttps() throws Exception {
        String url = server.url("backups", "trusted");
        assertTrue(url.contains("endpoint=https://"), url);
        BackupRepository.open(url, secrets(certificate.pem())).backup(tree, "first", Map.of(), null);

        Path restored = Files.createDirectory(tmp.resolve("restored"));
        BackupRepository.open(url, secrets(certificate.pem())).restore("first", restored);
        TestTrees.assertSameTree(tree, restored);
    }

    @Test
    void withoutItOrWithAnotherCaTheServerIsRefusedAndTheErrorSaysWhatToGive() {
        for (String caCert : new String[] {null, otherCa.pem()}) {
            IOException e = assertThrows(IOException.class,
                    () -> BackupRepository.open(server.url("backups", "untrusted"), secrets(caCert)));
            assertTrue(e.getMessage().contains("the server's certificate is not trusted")
                    && e.getMessage().contains(BackupSecrets.CA_CERT), e.getMessage());
        }
        assertTrue(server.sdk().listObjectsV2(b -> b.bucket("backups").prefix("untrusted")).contents().isEmpty(),
                "nothing was written");
    }

    @Test
    void aCertificateForAnotherHostIsRefusedThoughItsCaIsTrusted() throws Exception {
        TestCertificate elsewhere = TestCertificate.make(tmp, "elsewhere", "dns:s3.elsewhere.test");
        try (S3Server other = S3Server.startHttps(Files.createDirectory(tmp.resolve("s3-elsewhere")), elsewhere)) {
            IOException e = assertThrows(IOException.class,
                    () -> BackupRepository.open(other.url("backups", "x"), secrets(elsewhere.pem())));
            assertTrue(e.getMessage().contains("127.0.0.1"), e.getMessage());
        }
    }

    @Test
    void theCallsCaComesFirstThenTheEnvironmentsThenTheJvmsTrustStore() throws Exception {
        Map<String, String> environment = Map.of(BackupSecrets.CA_CERT, certificate.pem());
        String url = server.url("backups", "from-environment");
        S3Target target = new S3Target(S3Location.parse(url), S3Server.CREDENTIALS,
                S3Trust.of(BackupSecrets.NONE, environment::get), S3Target.MAX_PAGE);
        target.put("hello", new byte[] {1, 2, 3});
        assertEquals(3, target.get("hello").length);

        assertNull(S3Trust.of(BackupSecrets.NONE, name -> null), "the JVM's own");
        BackupException bad = TestTrees.assertFails(BackupException.Kind.INVALID,
                () -> S3Trust.of(BackupSecrets.NONE, Map.of(BackupSecrets.CA_CERT, "nonsense")::get));
        assertTrue(bad.getMessage().startsWith("environment variable " + BackupSecrets.CA_CERT), bad.getMessage());
        // the call's own wins over the environment's: the other CA, refused
        S3Target other = new S3Target(S3Location.parse(url), S3Server.CREDENTIALS,
                S3Trust.of(BackupSecrets.from(Map.of(BackupSecrets.CA_CERT, otherCa.pem())), environment::get),
                S3Target.MAX_PAGE);
        IOException refused = assertThrows(IOException.class, () -> other.get("hello"));
        assertTrue(refused.getMessage().contains("not trusted"), refused.getMessage());
    }

    @Test
    void aCaCertThatIsNotPemCertificatesIsInvalidAndNamesTheSecret() {
        for (String bad : new String[] {"not a certificate",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}) {
            BackupException e = TestTrees.assertFails(BackupException.Kind.INVALID,
                    () -> BackupRepository.open(server.url("backups", "bad"), secrets(bad)));
            assertTrue(e.getMessage().startsWith("secret " + BackupSecrets.CA_CERT), e.getMessage());
        }
        BackupException empty = TestTrees.assertFails(BackupException.Kind.INVALID,
                () -> BackupSecrets.from(Map.of(BackupSecrets.CA_CERT, "")));
        assertEquals("secret " + BackupSecrets.CA_CERT + " is empty", empty.getMessage());
    }
}
