package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints on a file target, whose puts are durable only at a sync: a backup stopped after its
 * first checkpoint leaves what the checkpoint names for its retry, stand-alone chunks included,
 * which without a checkpoint a file target writes again rather than trusts (S3's are in
 * S3RepositoryTest).
 */
class CheckpointTest {
    private static final byte[] KEY = "checkpoint-test-key".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    @Test
    void aBackupStoppedAfterItsFirstCheckpointIsResumedFromIt() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        for (int i = 0; i < 5; i++) { // 160 MiB: after the checkpoint at 64, most of the backup is still to come
            TestTrees.writeRandom(tree.resolve("disk-" + i + ".img"), 32L << 20, 40 + i);
        }
        Path target = tmp.resolve("target");
        BackupRepository repo = BackupRepository.open(raw(target), KEY);

        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread backingUp = new Thread(() -> {
            try {
                repo.backup(tree, "cut", Map.of(), null);
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "backing-up");
        backingUp.start();
        while (indexes(target).isEmpty() && backingUp.isAlive()) {
            Thread.sleep(2);
        }
        long storedThen = TestTrees.bytesIn(target);
        backingUp.interrupt(); // as a driver stopping mid-upload does
        backingUp.join();

        assertTrue(storedThen < 150L << 20, "an index came part-way through (a checkpoint, not the backup's own): "
                + storedThen + " bytes stored then");
        assertTrue(failure.get() instanceof IOException, "the backup was stopped: " + failure.get());
        assertEquals(List.of(), raw(target).list("backups/"), "no manifest");
        assertTrue(!indexes(target).isEmpty(), "the checkpoint stays for the retry");

        BackupSummary resumed = repo.backup(tree, "cut", Map.of(), null);

        assertTrue(resumed.uploadedBytes() < (160L << 20) - (60L << 20),
                "what the checkpoint named is not stored again: " + resumed);
        Path into = Files.createDirectory(tmp.resolve("into"));
        repo.restore("cut", into);
        TestTrees.assertSameTree(tree, into);
    }

    private static List<String> indexes(Path target) throws IOException {
        return raw(target).list(IndexStore.PREFIX);
    }

    private static BackupTarget raw(Path target) throws IOException {
        return BackupTarget.open(TestTrees.url(target));
    }
}
