package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdempotencyTest {
    @TempDir
    Path tmp;

    @Test
    void anExistingNameReturnsItsSummaryAndStoresNothing() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.writeRandom(tree.resolve("data.bin"), 1 << 20, 4);
        Path target = tmp.resolve("target");
        BackupRepository repo = BackupRepository.open(TestTrees.url(target), BackupSecrets.NONE);
        BackupSummary first = repo.backup(tree, "nightly", Map.of("k", "v"), null);
        byte[] manifest = Files.readAllBytes(target.resolve("backups/nightly"));
        long objects = TestTrees.countFiles(target, "");

        TestTrees.writeRandom(tree.resolve("more.bin"), 1 << 20, 5); // the retry sees a changed tree
        BackupSummary retried = repo.backup(tree, "nightly", Map.of("other", "labels"), null);

        assertEquals(first, retried);
        assertEquals(objects, TestTrees.countFiles(target, ""));
        assertArrayEquals(manifest, Files.readAllBytes(target.resolve("backups/nightly")));
        assertEquals(first, repo.summary("nightly"));
    }
}
