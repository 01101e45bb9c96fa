package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTargetTest {
    @TempDir
    Path tmp;

    @Test
    void storesListsAndDeletesObjects() throws Exception {
        Path dir = tmp.resolve("new/target");
        BackupTarget target = BackupTarget.open(TestTrees.url(dir));
        assertFalse(Files.exists(tmp.resolve("new")), "opening makes nothing");
        assertEquals(List.of(), target.list(""));
        assertFalse(target.exists("config"));
        assertThrows(NoSuchFileException.class, () -> target.get("config"));
        assertFalse(Files.exists(tmp.resolve("new")), "reading makes nothing");

        target.put("chunks/bb/bb2", new byte[] {2});
        assertTrue(Files.isDirectory(dir), "made by the first put");
        target.put("chunks/aa/aa1", new byte[] {1});
        target.put("backups/x", new byte[] {3, 4});
        target.put("backups/x", new byte[] {5});
        Files.writeString(dir.resolve("chunks/aa/.aa9.tmp"), "left by a crash");

        assertEquals(List.of("chunks/aa/aa1", "chunks/bb/bb2"), target.list("chunks/"));
        assertEquals(List.of("chunks/aa/aa1"), target.list("chunks/a"));
        assertEquals(List.of("backups/x", "chunks/aa/aa1", "chunks/bb/bb2"), target.list(""));
        assertEquals(List.of(), target.list("locks/"));
        assertArrayEquals(new byte[] {5}, target.get("backups/x"));
        assertEquals(1, target.size("backups/x"));
        assertTrue(target.exists("backups/x"));
        assertFalse(target.exists("backups/y"));
        Instant modified = target.modified("backups/x");
        assertTrue(Duration.between(modified, Instant.now()).abs().toMinutes() < 1, modified.toString());

        target.delete("backups/x");
        target.delete("backups/x");
        assertThrows(NoSuchFileException.class, () -> target.get("backups/x"));
        assertThrows(NoSuchFileException.class, () -> target.modified("backups/x"));
    }

    @Test
    void readsIntoAReusedArray() throws Exception {
        TestTrees.assertReadsIntoReusedArrays(BackupTarget.open(TestTrees.url(tmp.resolve("t"))));
    }

    @Test
    void putIfAbsentCreatesOnce() throws Exception {
        BackupTarget target = BackupTarget.open(TestTrees.url(tmp.resolve("t")));
        assertTrue(target.putIfAbsent("config", new byte[] {1}));
        assertFalse(target.putIfAbsent("config", new byte[] {2}));
        assertArrayEquals(new byte[] {1}, target.get("config"));
        assertEquals(List.of("config"), target.list(""), "no staging file left behind");
    }

    /**
     * Two hosts on one NFS export may store the same chunk at the same moment (encrypted, with
     * different bytes). With one temporary name per key, one writer could rename the other's
     * half-written file into place; each write now stages under a name of its own.
     */
    @Test
    void writersOfTheSameKeyAtOnceNeverLeaveAMixOfTheirBytes() throws Exception {
        BackupTarget target = BackupTarget.open(TestTrees.url(tmp.resolve("t")));
        byte[] a = new byte[256 << 10];
        byte[] b = new byte[64 << 10];
        java.util.Arrays.fill(a, (byte) 'a');
        java.util.Arrays.fill(b, (byte) 'b');
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        List<Thread> writers = List.of(a, b).stream().map(bytes -> new Thread(() -> {
            try {
                for (int i = 0; i < 300; i++) {
                    target.putBuffered("chunks/cc/cc1", java.nio.ByteBuffer.wrap(bytes));
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        })).toList();
        writers.forEach(Thread::start);
        for (int i = 0; i < 300 && failure.get() == null; i++) {
            try {
                byte[] read = target.get("chunks/cc/cc1");
                assertTrue(java.util.Arrays.equals(read, a) || java.util.Arrays.equals(read, b),
                        "a whole write of one writer, not " + read.length + " mixed bytes");
            } catch (NoSuchFileException notYet) {
                // before the first rename
            }
        }
        for (Thread w : writers) {
            w.join();
        }
        assertEquals(null, failure.get(), "no writer failed");
        try (var left = Files.list(tmp.resolve("t/chunks/cc"))) {
            assertEquals(List.of("cc1"), left.map(p -> p.getFileName().toString()).toList(), "no temporary file left");
        }
    }

    /** Another host stores and prunes in the same directories while this one lists them. */
    @Test
    void aListingMeetsFilesComingAndGoingWithoutFailing() throws Exception {
        BackupTarget target = BackupTarget.open(TestTrees.url(tmp.resolve("t")));
        target.put("chunks/ee/ee0", new byte[] {1});
        java.util.concurrent.atomic.AtomicBoolean churning = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread otherHost = new Thread(() -> {
            try {
                for (int i = 1; churning.get(); i++) {
                    target.putBuffered("chunks/ee/ee" + i, java.nio.ByteBuffer.wrap(new byte[] {2}));
                    target.delete("chunks/ee/ee" + i);
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        });
        otherHost.start();
        try {
            for (int i = 0; i < 500; i++) {
                assertTrue(target.list("chunks/").contains("chunks/ee/ee0"));
            }
        } finally {
            churning.set(false);
            otherHost.join();
        }
        assertEquals(null, failure.get());
    }

    /** A crash leaves a write's temporary file; a prune removes it once it is older than any write. */
    @Test
    void aPruneSweepsTemporaryFilesThatOnlyACrashCouldHaveLeft() throws Exception {
        Path dir = tmp.resolve("t");
        BackupRepository repo = BackupRepository.open(TestTrees.url(dir), BackupSecrets.NONE);
        Files.createDirectories(dir.resolve("chunks/dd"));
        Path old = Files.writeString(dir.resolve("chunks/dd/.dd1.0b7c.tmp"), "cut off by a crash");
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.from(
                Instant.now().minus(Pruner.INTERRUPTED_WRITE_AGE).minusSeconds(60)));
        Path running = Files.writeString(dir.resolve("chunks/dd/.dd2.9f1e.tmp"), "another host, writing now");

        repo.prune(Duration.ofDays(1));

        assertFalse(Files.exists(old), "swept");
        assertTrue(Files.exists(running), "a write that may still be running is left alone");
    }

    @Test
    void aPathNoDirectoryCanBeMadeAtIsAnInvalidUrlAndMakesNothing() throws Exception {
        Path file = Files.writeString(tmp.resolve("hostname"), "node-1\n");
        for (Path dir : List.of(file, file.resolve("sub"), tmp.resolve("a/" + "x".repeat(256) + "/b"))) {
            BackupException e = assertThrows(BackupException.class, () -> BackupTarget.open(TestTrees.url(dir)));
            assertEquals(BackupException.Kind.INVALID, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains(TestTrees.url(dir)), e.getMessage());
        }
        assertEquals("node-1\n", Files.readString(file));
        assertFalse(Files.exists(tmp.resolve("a")));
        // a name of 255 bytes is one a directory can have
        BackupTarget.open(TestTrees.url(tmp.resolve("x".repeat(255)))).put("config", new byte[] {1});
    }

    @Test
    void urlIsTheOneGiven() throws Exception {
        String url = TestTrees.url(tmp.resolve("t"));
        assertEquals(url, BackupTarget.open(url).url());
        assertEquals(url, BackupRepository.open(url, BackupSecrets.NONE).url());
    }
}
