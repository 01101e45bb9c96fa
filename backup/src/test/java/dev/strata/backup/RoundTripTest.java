package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundTripTest {
    @TempDir
    Path tmp;

    /** A tree with every kind of entry the repository keeps, and some it must skip. */
    static Path buildTree(Path tree) throws Exception {
        Files.createDirectories(tree.resolve("a/b/c"));
        Files.createDirectories(tree.resolve("empty-dir"));
        Files.createFile(tree.resolve("empty-file"));
        Files.writeString(tree.resolve("a/small.txt"), "hello, strata\n");
        Files.writeString(tree.resolve("a/b/c/deep.txt"), "deep ".repeat(1000));
        TestTrees.writeRandom(tree.resolve("a/big.bin"), 20L << 20, 42);
        Files.createSymbolicLink(tree.resolve("rel-link"), Path.of("a/small.txt"));
        Files.createSymbolicLink(tree.resolve("a/abs-link"), tree.resolveSibling("outside.txt").toAbsolutePath());
        Files.createSymbolicLink(tree.resolve("dangling"), Path.of("no/such/file"));
        TestTrees.setMode(tree.resolve("a/b"), 0750);
        TestTrees.setMode(tree.resolve("a/small.txt"), 0640);
        Files.setAttribute(tree.resolve("a/b/c/deep.txt"), "unix:uid", 1000);
        TestTrees.setMode(tree.resolve("a/b/c/deep.txt"), 04755); // after the chown, which clears setuid
        TestTrees.setMode(tree.resolve("empty-dir"), 01777);
        Files.setAttribute(tree.resolve("a/small.txt"), "unix:uid", 1234);
        Files.setAttribute(tree.resolve("a/small.txt"), "unix:gid", 5678);
        TestTrees.setMtime(tree.resolve("a/small.txt"), 1_600_000_000L, 123_456_789);
        TestTrees.setMtime(tree.resolve("rel-link"), 1_500_000_000L, 0);
        TestTrees.setMtime(tree.resolve("a/b/c"), 1_400_000_000L, 5_000);
        TestTrees.setMtime(tree.resolve("a/b"), 1_400_000_001L, 0);
        TestTrees.setMtime(tree.resolve("a"), 1_400_000_002L, 0);
        return tree;
    }

    @Test
    void restoresContentTypesModesOwnersAndTimes() throws Exception {
        Path tree = buildTree(tmp.resolve("tree"));
        Process fifo = new ProcessBuilder("mkfifo", tree.resolve("a/fifo").toString()).start();
        assertEquals(0, fifo.waitFor());
        TestTrees.setMtime(tree.resolve("a"), 1_400_000_002L, 0);
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);

        BackupSummary summary = repo.backup(tree, "first", Map.of("volume", "pvc-1"), null);

        assertEquals(4, summary.files());
        assertEquals(5, summary.directories()); // the root, a, a/b, a/b/c, empty-dir
        assertEquals(3, summary.symlinks());
        assertEquals(1, summary.skipped());
        assertEquals((20L << 20) + 14 + 5000, summary.logicalBytes());
        assertEquals(summary.logicalBytes(), summary.readBytes());
        assertTrue(summary.chunks() >= 4, "a 20 MiB file is several chunks: " + summary.chunks());
        assertEquals(Map.of("volume", "pvc-1"), summary.labels());

        Files.delete(tree.resolve("a/fifo"));
        TestTrees.setMtime(tree.resolve("a"), 1_400_000_002L, 0);
        Path into = Files.createDirectory(tmp.resolve("restored"));
        repo.restore("first", into);

        TestTrees.assertSameTree(tree, into);
        assertEquals(1234, Files.getAttribute(into.resolve("a/small.txt"), "unix:uid"));
        assertEquals(04755, (Integer) Files.getAttribute(into.resolve("a/b/c/deep.txt"), "unix:mode") & 07777);
    }

    @Test
    void manifestListsTheRootFirstThenEachDirectoryBeforeItsContents() throws Exception {
        Path tree = buildTree(tmp.resolve("tree"));
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        repo.backup(tree, "b", null, null);

        Manifest manifest = repo.manifest("b");

        assertEquals(".", manifest.entries().get(0).path());
        assertEquals("dir", manifest.entries().get(0).type());
        assertEquals("a", manifest.entries().get(1).path());
        assertEquals("a/abs-link", manifest.entries().get(2).path());
        assertEquals(tmp.resolve("outside.txt").toAbsolutePath().toString(), manifest.entries().get(2).target());
        assertEquals(repo.summary("b"), manifest.summary());
        assertEquals(1, repo.list().size());
    }

    @Test
    void emptyTreeRoundTrips() throws IOException {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.setMode(tree, 0700);
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        BackupSummary summary = repo.backup(tree, "empty", Map.of(), null);
        assertEquals(0, summary.chunks());
        Path into = Files.createDirectory(tmp.resolve("into"));
        repo.restore("empty", into);
        TestTrees.assertSameTree(tree, into);
    }

    @Test
    void listIsSortedByCreationTime() throws IOException {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        repo.backup(tree, "zz-first", Map.of(), null);
        repo.backup(tree, "aa-second", Map.of(), null);
        assertEquals(java.util.List.of("zz-first", "aa-second"),
                repo.list().stream().map(BackupSummary::name).toList());
    }
}
