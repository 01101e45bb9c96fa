package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DedupTest {
    private static final int SIZE = 64 << 20;

    @TempDir
    Path tmp;

    @Test
    void sameTreeStoresNothingAndSmallEditsStoreFewChunks() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        byte[] original = TestTrees.random(SIZE, 7);
        Path big = tree.resolve("disk.img");
        Files.write(big, original);
        Files.writeString(tree.resolve("notes.txt"), "some notes");
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);

        BackupSummary first = repo.backup(tree, "first", Map.of(), null);
        BackupSummary again = repo.backup(tree, "again", Map.of(), null);

        assertTrue(first.newChunks() >= 30, "64 MiB in chunks of about 1 MiB: " + first.newChunks());
        assertEquals(0, again.newChunks());
        assertEquals(0, again.uploadedBytes());
        assertEquals(first.chunks(), again.chunks());

        Files.write(big, edited(original));
        BackupSummary edited = repo.backup(tree, "edited", Map.of(), null);

        assertTrue(edited.newChunks() <= 4, "new chunks after two small edits: " + edited.newChunks());
        assertTrue(edited.uploadedBytes() < SIZE / 10, "uploaded after two small edits: " + edited.uploadedBytes());
        Path into = Files.createDirectory(tmp.resolve("into"));
        repo.restore("edited", into);
        TestTrees.assertSameTree(tree, into);
    }

    /** Ten bytes inserted at the middle, a hundred appended at the end. */
    private static byte[] edited(byte[] original) {
        byte[] inserted = TestTrees.random(10, 1);
        byte[] appended = TestTrees.random(100, 2);
        int middle = original.length / 2;
        byte[] result = new byte[original.length + 110];
        System.arraycopy(original, 0, result, 0, middle);
        System.arraycopy(inserted, 0, result, middle, 10);
        System.arraycopy(original, middle, result, middle + 10, original.length - middle);
        System.arraycopy(appended, 0, result, original.length + 10, 100);
        return result;
    }
}
