package dev.strata.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class TrashTest {
    @TempDir
    Path dir;

    private static Path tree(Path root, int files) throws IOException {
        Files.createDirectories(root.resolve("sub/deeper"));
        for (int i = 0; i < files; i++) {
            Files.writeString(root.resolve("sub/f" + i), "data " + i);
            Files.writeString(root.resolve("sub/deeper/g" + i), "more " + i);
        }
        return root;
    }

    private static List<Path> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    @Test
    void discardMovesAtOnceAndDrainEmptiesTheTrash() throws Exception {
        try (Trash trash = new Trash(dir.resolve("trash"))) {
            Path vol = tree(dir.resolve("vol-1"), 50);
            trash.discard(vol);
            assertFalse(Files.exists(vol, LinkOption.NOFOLLOW_LINKS), "the name is free as soon as discard returns");
            Files.createDirectory(vol); // and can be reused at once
            trash.drain();
            assertEquals(List.of(), list(dir.resolve("trash")));
            assertTrue(Files.isDirectory(vol));
        }
    }

    @Test
    void emptyAndFullTreesAreBothReclaimed() throws Exception {
        try (Trash trash = new Trash(dir.resolve("trash"))) {
            Path empty = Files.createDirectory(dir.resolve("empty")); // removed in-process
            Path full = tree(dir.resolve("full"), 3); // removed by rm
            trash.discard(empty);
            trash.discard(full);
            trash.drain();
            assertEquals(List.of(), list(dir.resolve("trash")));
            assertEquals(0, trash.pendingEntries());
        }
    }

    @Test
    void theBacklogIsCountedUntilReclaimed() throws Exception {
        try (Trash trash = new Trash(dir.resolve("trash"))) {
            assertEquals(0, trash.pendingEntries());
            assertEquals(0, trash.pendingBytes());
            Path vol = dir.resolve("vol-1");
            Files.createDirectories(vol);
            Files.write(vol.resolve("data"), new byte[1 << 20]);
            java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
            trash.discard(vol, tree -> {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            });
            assertEquals(1, trash.pendingEntries());
            long bytes = trash.pendingBytes();
            assertTrue(bytes >= 1 << 20 && bytes < 2 << 20, "the tree's blocks: " + bytes);
            List<dev.strata.common.metrics.Sample> samples = Trash.samples("dir", List.of(trash));
            assertEquals(1.0, samples.get(0).value());
            assertEquals(java.util.Map.of("engine", "dir"), samples.get(0).labels());
            hold.countDown();
            trash.drain();
            assertEquals(0, trash.pendingEntries());
            assertEquals(0, trash.pendingBytes());
        }
    }

    @Test
    void sameNameDiscardedTwiceDoesNotCollide() throws Exception {
        try (Trash trash = new Trash(dir.resolve("trash"))) {
            Path vol = dir.resolve("vol-1");
            tree(vol, 3);
            trash.discard(vol);
            tree(vol, 3);
            trash.discard(vol);
            assertFalse(Files.exists(vol));
            trash.drain();
            assertEquals(List.of(), list(dir.resolve("trash")));
        }
    }

    @Test
    void discardingAMissingPathIsANoOp() throws Exception {
        try (Trash trash = new Trash(dir.resolve("trash"))) {
            trash.discard(dir.resolve("never-existed"));
            trash.drain();
            assertEquals(List.of(), list(dir.resolve("trash")));
        }
    }

    @Test
    void discardsPlainFilesToo() throws Exception {
        try (Trash trash = new Trash(dir.resolve("trash"))) {
            Path f = Files.writeString(dir.resolve("file"), "x");
            trash.discard(f);
            assertFalse(Files.exists(f));
            trash.drain();
            assertEquals(List.of(), list(dir.resolve("trash")));
        }
    }

    @Test
    void leftoversFromAnEarlierRunAreReclaimed() throws Exception {
        Path trashDir = Files.createDirectories(dir.resolve("trash"));
        tree(trashDir.resolve("vol-old.123"), 20);
        tree(trashDir.resolve("vol-older.7"), 5);
        Files.writeString(trashDir.resolve("stray-file.9"), "x");
        try (Trash trash = new Trash(trashDir)) {
            trash.drain();
            assertEquals(List.of(), list(trashDir));
        }
    }

    @Test
    void symlinksAreDeletedNotFollowed() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path precious = Files.writeString(outside.resolve("precious.txt"), "keep me");
        Path vol = tree(dir.resolve("vol-1"), 2);
        Files.createSymbolicLink(vol.resolve("link-to-file"), precious);
        Files.createSymbolicLink(vol.resolve("sub/link-to-dir"), outside);
        Files.createSymbolicLink(vol.resolve("sub/relative-up"), Path.of("../../outside"));
        Files.createSymbolicLink(vol.resolve("dangling"), dir.resolve("nowhere"));
        try (Trash trash = new Trash(dir.resolve("trash"))) {
            trash.discard(vol);
            trash.drain();
            assertEquals(List.of(), list(dir.resolve("trash")));
        }
        assertEquals("keep me", Files.readString(precious));
        assertEquals(List.of(precious), list(outside));
    }

    @Test
    void deleteTreeOnASymlinkRootRemovesOnlyTheLink() throws IOException {
        Path outside = tree(dir.resolve("outside"), 2);
        Path link = Files.createSymbolicLink(dir.resolve("link"), outside);
        Trash.deleteTree(link);
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(outside.resolve("sub/f0")));
        Trash.deleteTree(dir.resolve("missing")); // no-op
        Trash.deleteTree(outside);
        assertFalse(Files.exists(outside));
    }
}
