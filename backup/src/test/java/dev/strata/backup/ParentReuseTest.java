package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParentReuseTest {
    @TempDir
    Path tmp;

    @Test
    void unchangedFilesAreNotReadAgain() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        Files.createDirectories(tree.resolve("dir"));
        TestTrees.writeRandom(tree.resolve("dir/a.bin"), 3 << 20, 1);
        TestTrees.writeRandom(tree.resolve("b.bin"), 100_000, 2);
        Files.writeString(tree.resolve("c.txt"), "unchanged");
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);

        BackupSummary first = repo.backup(tree, "first", Map.of(), null);
        BackupSummary unchanged = repo.backup(tree, "unchanged", Map.of(), "first");

        assertEquals(first.logicalBytes(), first.readBytes());
        assertEquals(0, unchanged.readBytes());
        assertEquals(0, unchanged.newChunks());
        assertEquals(first.chunks(), unchanged.chunks());
        assertEquals("first", unchanged.parent());

        TestTrees.writeRandom(tree.resolve("b.bin"), 150_000, 3);
        BackupSummary changed = repo.backup(tree, "changed", Map.of(), "unchanged");

        assertEquals(150_000, changed.readBytes());
        assertEquals(1, changed.newChunks());
        Path into = Files.createDirectory(tmp.resolve("into"));
        repo.restore("changed", into);
        TestTrees.assertSameTree(tree, into);
    }

    @Test
    void aCopyOfTheTreeWithItsTimesIsNotReadAgain() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.writeRandom(tree.resolve("a.bin"), 2 << 20, 4);
        Files.writeString(tree.resolve("b.txt"), "b");
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        repo.backup(tree, "first", Map.of(), null);
        // what the dir engine's next snapshot is: cp -a, new inodes, the same nanosecond mtimes
        Path copy = tmp.resolve("copy");
        assertEquals(0, new ProcessBuilder("cp", "-a", tree.toString(), copy.toString()).inheritIO().start().waitFor());

        BackupSummary second = repo.backup(copy, "second", Map.of(), "first");

        assertEquals(0, second.readBytes());
        assertEquals(0, second.newChunks());
    }

    @Test
    void aMissingParentIsNotFound() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> repo.backup(tree, "child", Map.of(), "nope"));
    }
}
