package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.testkit.S3Server;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** The {@link BackupTarget} contract on {@link S3Target}, against a real S3 server (S3Proxy). */
class S3TargetTest {
    @TempDir
    static Path data;

    private static S3Server server;
    private static int buckets;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.start(data);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private static String newBucket() {
        return server.createBucket("contract-" + buckets++);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putGetExistsSizeModifiedDelete() throws Exception {
        S3Target target = S3TestTargets.target(server.url(newBucket(), "some/prefix"));
        Instant before = Instant.now().minusSeconds(2); // S3 keeps whole seconds

        target.put("config", bytes("one"));
        target.put("config", bytes("second")); // a put replaces

        assertArrayEquals(bytes("second"), target.get("config"));
        assertTrue(target.exists("config"));
        assertFalse(target.exists("configx"));
        assertEquals(6, target.size("config"));
        Instant modified = target.modified("config");
        assertTrue(!modified.isBefore(before) && modified.isBefore(Instant.now().plusSeconds(2)), modified.toString());
        NoSuchFileException missing = assertThrows(NoSuchFileException.class, () -> target.get("absent/key"));
        assertTrue(missing.getMessage().contains("absent/key"), missing.getMessage());
        assertThrows(NoSuchFileException.class, () -> target.size("absent"));
        assertThrows(NoSuchFileException.class, () -> target.modified("absent"));

        target.delete("config");
        target.delete("config"); // missing is fine
        target.delete("never/there");
        assertFalse(target.exists("config"));
        assertThrows(NoSuchFileException.class, () -> target.get("config"));
    }

    @Test
    void objectsOfEverySizeComeBackWhole() throws Exception {
        S3Target target = S3TestTargets.target(server.url(newBucket(), ""));
        // empty, a chunk's size, and past the first read's 8 MiB, where the rest is read as it comes
        for (int size : new int[] {0, 1 << 20, (8 << 20) + 12345}) {
            byte[] data = TestTrees.random(size, size);
            target.put("o" + size, data);
            assertArrayEquals(data, target.get("o" + size), size + " bytes");
        }
    }

    @Test
    void readsIntoAReusedArray() throws Exception {
        TestTrees.assertReadsIntoReusedArrays(S3TestTargets.target(server.url(newBucket(), "")));
    }

    @Test
    void keysLiveUnderThePrefixAndListWithoutIt() throws Exception {
        String bucket = newBucket();
        S3Target target = S3TestTargets.target(server.url(bucket, "team/backups"));
        target.put("chunks/ab/ab01", bytes("a"));
        target.put("chunks/cd/cd02", bytes("b"));
        target.put("backups/first", bytes("c"));
        target.put("config", bytes("d"));

        assertEquals(List.of("backups/first", "chunks/ab/ab01", "chunks/cd/cd02", "config"), target.list(""));
        assertEquals(List.of("chunks/ab/ab01", "chunks/cd/cd02"), target.list("chunks/"));
        assertEquals(List.of("chunks/ab/ab01"), target.list("chunks/a"));
        assertEquals(List.of(), target.list("locks/"));
        assertEquals(List.of("team/backups/backups/first", "team/backups/chunks/ab/ab01",
                "team/backups/chunks/cd/cd02", "team/backups/config"), server.keys(bucket, ""));

        S3Target sibling = S3TestTargets.target(server.url(bucket, "team/other"));
        assertEquals(List.of(), sibling.list(""), "another prefix of the bucket is another target");
        S3Target whole = S3TestTargets.target(server.url(bucket, ""));
        assertEquals(4, whole.list("team/backups/").size());
        assertArrayEquals(bytes("d"), whole.get("team/backups/config"));
    }

    @Test
    void listFollowsEveryPage() throws Exception {
        S3Target target = S3TestTargets.target(server.url(newBucket(), "p"), 3);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            String key = String.format("chunks/%02d/k%02d", i % 4, i);
            target.put(key, bytes("x" + i));
            expected.add(key);
        }
        target.put("config", bytes("c"));
        expected.sort(null);

        assertEquals(expected, target.list("chunks/"), "11 keys in pages of 3");
        assertEquals(12, target.list("").size());
    }

    @Test
    void putIfAbsentCreatesOnce() throws Exception {
        S3Target target = S3TestTargets.target(server.url(newBucket(), ""));
        assertTrue(target.putIfAbsent("config", bytes("first")));
        assertFalse(target.putIfAbsent("config", bytes("second")));
        assertArrayEquals(bytes("first"), target.get("config"));
    }

    @Test
    void badKeysAreInvalidBeforeAnyRequest() throws Exception {
        // a bucket that does not exist: a key refused up front never gets as far as finding that out
        S3Target target = S3TestTargets.target(server.url("no-such-bucket", ""));
        for (String key : List.of("../x", "/x", "a//b", "a/", "ü", "a b")) {
            TestTrees.assertFails(BackupException.Kind.INVALID, () -> target.put(key, new byte[1]));
            TestTrees.assertFails(BackupException.Kind.INVALID, () -> target.get(key));
            TestTrees.assertFails(BackupException.Kind.INVALID, () -> target.exists(key));
        }
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> target.list("/abs"));
    }

    @Test
    void aMissingBucketIsNotFound() throws Exception {
        String url = server.url("no-such-bucket", "x");
        S3Target target = S3TestTargets.target(url);
        BackupException e = TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> target.exists("config"));
        assertTrue(e.getMessage().contains("no-such-bucket") && e.getMessage().contains(url), e.getMessage());
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> target.put("config", new byte[1]));
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> target.list(""));
        e = TestTrees.assertFails(BackupException.Kind.NOT_FOUND,
                () -> BackupRepository.open(target, null));
        assertTrue(e.getMessage().contains("no-such-bucket"), e.getMessage());
    }

    @Test
    void wrongCredentialsAreAClearError() throws Exception {
        String url = server.url(newBucket(), "p");
        S3Target target = new S3Target(S3Location.parse(url), StaticCredentialsProvider.create(
                AwsBasicCredentials.create(S3Server.ACCESS_KEY, "not-the-secret")), S3Target.MAX_PAGE);
        IOException e = assertThrows(IOException.class, () -> target.put("config", bytes("x")));
        assertFalse(e instanceof BackupException, e.toString());
        assertTrue(e.getMessage().contains(url) && e.getMessage().contains("refused")
                && e.getMessage().contains("403") && e.getMessage().contains("credentials"), e.getMessage());
        assertFalse(e.getMessage().contains("not-the-secret"), "never the secret: " + e.getMessage());

        S3Target unknown = new S3Target(S3Location.parse(url), StaticCredentialsProvider.create(
                AwsBasicCredentials.create("nobody", "nothing")), S3Target.MAX_PAGE);
        e = assertThrows(IOException.class, () -> unknown.get("config"));
        assertTrue(e.getMessage().contains(url) && e.getMessage().contains("refused"), e.getMessage());
    }

    @Test
    void anUnreachableEndpointNamesTheUrlAndTheCause() throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort(); // free once closed: nothing listens there
        }
        String url = "s3://bucket/p?endpoint=http://127.0.0.1:" + port;
        S3Target target = S3TestTargets.target(url);
        IOException e = assertThrows(IOException.class, () -> target.get("config"));
        assertTrue(e.getMessage().contains(url) && e.getMessage().contains("Connection refused"), e.getMessage());
    }

    /** The production path: BackupTarget.open and the SDK's default credentials chain. */
    @Test
    void openTakesCredentialsFromTheDefaultChain() throws Exception {
        String bucket = newBucket();
        String url = "s3://" + bucket + "/chain/?endpoint=" + server.endpoint() + "/&region=us-east-1";
        try (S3Server.Undo keys = S3Server.keysAsDefaultCredentials()) {
            BackupTarget target = BackupTarget.open(url);
            assertInstanceOf(S3Target.class, target);
            assertEquals("s3://" + bucket + "/chain?endpoint=" + server.endpoint() + "&region=us-east-1", target.url());
            target.put("config", bytes("via the chain"));
            assertArrayEquals(bytes("via the chain"), server.sdk().getObjectAsBytes(
                    b -> b.bucket(bucket).key("chain/config")).asByteArray());
        }
    }

    /**
     * The cluster path: a CSI call's secrets (a VolumeSnapshotClass's Secret) open the target, and win
     * over whatever the process's own chain holds; their key encrypts the repository.
     */
    @Test
    void aCallersSecretsOpenTheTargetOverTheDefaultChain() throws Exception {
        String url = server.url(newBucket(), "secrets");
        try (S3Server.Undo nobody = S3Server.defaultCredentials("nobody", "nothing")) {
            IOException refused = assertThrows(IOException.class, () -> BackupTarget.open(url).put("k", bytes("x")));
            assertTrue(refused.getMessage().contains("refused"), refused.getMessage());

            BackupSecrets secrets = BackupSecrets.from(java.util.Map.of(BackupSecrets.ACCESS_KEY_ID,
                    S3Server.ACCESS_KEY, BackupSecrets.SECRET_ACCESS_KEY, S3Server.SECRET_KEY, BackupSecrets.KEY,
                    "tenant passphrase", "unrelated", "ignored"));
            BackupTarget.open(url, secrets).put("k", bytes("with the call's credentials"));
            assertArrayEquals(bytes("with the call's credentials"), S3TestTargets.target(url).get("k"));

            String repository = url.replace("/secrets", "/secrets-repo");
            BackupRepository.open(repository, secrets);
            BackupException noKey = assertThrows(BackupException.class, () -> BackupRepository.open(repository,
                    new BackupSecrets(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, null, null, null)));
            assertEquals(BackupException.Kind.KEY_REQUIRED, noKey.kind(), "the secrets' key encrypted it");
        }
    }

    @Test
    void manyTargetsLeaveNoThreadsBehind() throws Exception {
        String url = server.url(newBucket(), "t");
        S3TestTargets.target(url).put("config", bytes("x")); // classes loaded, pools warmed
        int before = Thread.activeCount();
        for (int i = 0; i < 20; i++) {
            assertTrue(S3TestTargets.target(url).exists("config"));
        }
        assertTrue(Thread.activeCount() <= before + 2, "threads: " + before + " -> " + Thread.activeCount());
    }
}
