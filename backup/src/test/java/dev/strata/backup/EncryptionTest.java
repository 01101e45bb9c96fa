package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncryptionTest {
    private static final String MARKER = "STRATA-PLAINTEXT-MARKER";
    private static final byte[] KEY = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private Path tree() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        Files.writeString(tree.resolve("compressible.txt"), (MARKER + "\n").repeat(10_000));
        // random bytes do not compress: only the encryption can hide the marker in this one
        byte[] noise = TestTrees.random(200_000, 9);
        System.arraycopy(MARKER.getBytes(StandardCharsets.US_ASCII), 0, noise, 100_000, MARKER.length());
        Files.write(tree.resolve("noise.bin"), noise);
        Files.writeString(tree.resolve(MARKER + ".name"), "the file name is secret too");
        return tree;
    }

    @Test
    void storedObjectsRevealNeitherContentNorNames() throws Exception {
        Path tree = tree();
        Path target = tmp.resolve("target");
        BackupRepository repo = BackupRepository.open(TestTrees.url(target), BackupSecrets.keyOnly(KEY));
        repo.backup(tree, "secret", Map.of(), null);

        byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
        List<Path> objects;
        try (Stream<Path> files = Files.walk(target)) {
            objects = files.filter(Files::isRegularFile).toList();
        }
        assertTrue(objects.size() >= 3, "config, manifest and a pack of chunks: " + objects);
        for (Path object : objects) {
            assertFalse(contains(Files.readAllBytes(object), marker), object + " holds the plaintext marker");
        }
        byte[] small = Files.readAllBytes(tree.resolve("noise.bin"));
        String id = repo.manifest("secret").entries().stream().filter(e -> e.path().equals("noise.bin"))
                .findFirst().orElseThrow().chunks().get(0).id();
        assertNotEquals(TestTrees.sha256(small), id, "chunk IDs must not be plain hashes of the content");
    }

    @Test
    void theKeyIsRequiredAndChecked() throws Exception {
        Path tree = tree();
        String url = TestTrees.url(tmp.resolve("target"));
        BackupRepository.open(url, BackupSecrets.keyOnly(KEY)).backup(tree, "secret", Map.of(), null);

        TestTrees.assertFails(BackupException.Kind.KEY_REQUIRED, () -> BackupRepository.open(url, BackupSecrets.NONE));
        BackupException wrong = TestTrees.assertFails(BackupException.Kind.WRONG_KEY,
                () -> BackupRepository.open(url, BackupSecrets.keyOnly("wrong".getBytes(StandardCharsets.UTF_8))));
        assertTrue(wrong.getMessage().contains("the key does not open the backup target " + url), wrong.getMessage());

        Path into = Files.createDirectory(tmp.resolve("into"));
        BackupRepository.open(url, BackupSecrets.keyOnly(KEY.clone())).restore("secret", into);
        TestTrees.assertSameTree(tree, into);
        assertTrue(BackupRepository.open(url, BackupSecrets.keyOnly(KEY)).verify("secret").ok());
    }

    @Test
    void anUnencryptedRepositoryRefusesAKey() throws Exception {
        String url = TestTrees.url(tmp.resolve("plain"));
        BackupRepository.open(url, BackupSecrets.NONE);
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupRepository.open(url, BackupSecrets.keyOnly(KEY)));
    }

    @Test
    void aBinaryKeyFileWorks() throws Exception {
        byte[] keyFile = TestTrees.random(64, 5);
        Path tree = tree();
        String url = TestTrees.url(tmp.resolve("target"));
        BackupRepository.open(url, BackupSecrets.keyOnly(keyFile)).backup(tree, "b", Map.of(), null);
        assertEquals(1, BackupRepository.open(url, BackupSecrets.keyOnly(keyFile)).list().size());
        keyFile[0] ^= 1;
        TestTrees.assertFails(BackupException.Kind.WRONG_KEY, () -> BackupRepository.open(url, BackupSecrets.keyOnly(keyFile)));
    }

    private static boolean contains(byte[] data, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= data.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
