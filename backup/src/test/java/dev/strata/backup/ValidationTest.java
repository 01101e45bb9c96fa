package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidationTest {
    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"", "Upper", "-dash-first", ".dot-first", "a/b", "a_b", "a b", "..",
            "x23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"})
    void badBackupNamesAreInvalid(String name) throws Exception {
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.backup(tree, name, Map.of(), null));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.summary(name));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.remove(name));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.backup(tree, "ok", Map.of(), name));
    }

    @Test
    void goodNamesAreAccepted() throws Exception {
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        repo.backup(tree, "snap-2024.01.01", Map.of(), null);
        repo.backup(tree, "0", Map.of(), null);
        repo.backup(tree, "a".repeat(128), Map.of(), null);
        assertEquals(3, repo.list().size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"file:relative", "http://x", "file:///a/../b", "file://host/dir", "/plain/path",
            "file:///a/./b", "file:///a%2e%2e/b", ""})
    void badUrlsAreInvalidAndNamed(String url) {
        BackupException e = TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupRepository.open(url, BackupSecrets.NONE));
        assertTrue(e.getMessage().contains("'" + url + "'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"s3://", "s3:///prefix", "s3://B/upper", "s3://a_b/x", "s3://ab", "s3://bucket//x",
            "s3://bucket/a/../b", "s3://bucket/a b", "s3://bucket?endpoint=ftp://host", "s3://bucket?endpoint=127.0.0.1:9000",
            "s3://bucket?endpoint=http://host:9000/path", "s3://bucket?endpoint=http://[bad", "s3://bucket?region=US East",
            "s3://bucket?endpoint=http://a&endpoint=http://b", "s3://bucket?endpoint"})
    void malformedS3UrlsAreInvalidAndNamed(String url) {
        BackupException e = TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupTarget.open(url));
        assertTrue(e.getMessage().contains("'" + url + "'"), e.getMessage());
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupRepository.open(url, BackupSecrets.NONE));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupTarget.open(null));
    }

    /** Credentials never belong in the URL: refused, and not repeated in the message. */
    @ParameterizedTest
    @ValueSource(strings = {"s3://bucket?endpoint=http://AKIDEXAMPLE:s3cr3t@host:9000",
            "s3://bucket/p?secretKey=s3cr3t", "s3://bucket/p?endpoint=http://h&accessKey=s3cr3t",
            // no host after the credentials, one the URI parser refuses, one with a bad %-escape
            "s3://bucket?endpoint=http://AKIDEXAMPLE:s3cr3t@", "s3://bucket?endpoint=http://AKIDEXAMPLE:s3cr%20t@host",
            "s3://bucket?endpoint=http://AKIDEXAMPLE:s3cr3t@host%zz", "s3://bucket?endpoint=http://AKID:s3cr3t%40@host",
            "s3://bucket?endpoint=http%3A%2F%2FAKID%3As3cr3t%40host%zz"})
    void urlsCarryingSecretsAreRefusedWithoutEchoingThem(String url) {
        BackupException e = TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupTarget.open(url));
        assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
        assertTrue(e.getMessage().contains("s3://bucket"), e.getMessage());
    }

    @Test
    void s3UrlsAreNormalised() throws Exception {
        assertEquals("s3://bucket", BackupTarget.open("s3://bucket/").url());
        assertEquals("s3://my.bucket-1/a/b", BackupTarget.open("s3://my.bucket-1/a/b/").url());
        assertEquals("s3://bucket/p?endpoint=http://127.0.0.1:9000&region=eu-west-1",
                BackupTarget.open("s3://bucket/p?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A9000%2F").url());
        S3Location location = S3Location.parse("s3://bucket/a/b?endpoint=https://minio.example:9000");
        assertEquals("bucket", location.bucket());
        assertEquals("a/b/config", location.objectKey("config"));
        assertEquals("us-east-1", location.signingRegion());
        assertEquals("config", S3Location.parse("s3://bucket").objectKey("config"));
    }

    @Test
    void badKeysAreInvalid() {
        String url = TestTrees.url(tmp.resolve("target"));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupRepository.open(url, BackupSecrets.keyOnly(new byte[0])));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupRepository.open(url, BackupSecrets.keyOnly(new byte[(64 << 10) + 1])));
        assertFalse(Files.exists(tmp.resolve("target/config")), "a refused key must not initialise the target");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../x", "/x", "a//b", "a/./b", "a/../b", "a b", "a/", ".", "x\\y", "ü"})
    void badObjectKeysAreInvalid(String key) throws Exception {
        BackupTarget target = BackupTarget.open(TestTrees.url(tmp.resolve("target")));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> target.put(key, new byte[1]));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> target.get(key));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> target.delete(key));
        assertEquals(0, TestTrees.countFiles(tmp, ""), "nothing written");
    }

    @Test
    void aTargetHoldingOtherDataIsNotInitialised() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("target"));
        Files.writeString(dir.resolve("unrelated.txt"), "mine");
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupRepository.open(TestTrees.url(dir), BackupSecrets.NONE));
        assertFalse(Files.exists(dir.resolve("config")));
    }

    @Test
    void aBackupIsReadOnlyFromARepositoryThatIsThereAndNoneIsMadeToReadIt() throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Path absent = tmp.resolve("absent/deeper");
        for (Path dir : new Path[] {empty, absent}) {
            TestTrees.assertFails(BackupException.Kind.NOT_FOUND,
                    () -> BackupRepository.holding(TestTrees.url(dir), "snap-1", BackupSecrets.NONE));
            assertTrue(BackupRepository.openExisting(TestTrees.url(dir), BackupSecrets.NONE).isEmpty());
        }
        TestTrees.assertFails(BackupException.Kind.INVALID,
                () -> BackupRepository.holding(TestTrees.url(empty), "../snap-1", BackupSecrets.NONE));
        assertEquals(0, TestTrees.countFiles(empty, ""), "nothing written");
        assertFalse(Files.exists(tmp.resolve("absent")), "no directory made");

        BackupRepository made = BackupRepository.open(TestTrees.url(empty), BackupSecrets.NONE);
        made.backup(Files.createDirectory(tmp.resolve("tree")), "snap-1", Map.of(), null);
        assertEquals("snap-1", BackupRepository.holding(TestTrees.url(empty), "snap-1", BackupSecrets.NONE)
                .summary("snap-1").name());
    }

    @Test
    void restoreNeedsAnExistingEmptyDirectoryAndAnExistingBackup() throws Exception {
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        Files.writeString(tree.resolve("f"), "x");
        repo.backup(tree, "b", Map.of(), null);
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restore("b", tree));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restore("b", tmp.resolve("absent")));
        Path into = Files.createDirectory(tmp.resolve("into"));
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> repo.restore("nope", into));
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> repo.verify("nope"));
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> repo.manifest("nope"));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.backup(tree.resolve("f"), "c", Map.of(), null));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.prune(java.time.Duration.ofSeconds(-1)));
    }
}
