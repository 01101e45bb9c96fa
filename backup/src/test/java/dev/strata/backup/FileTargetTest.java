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
        assertTrue(Files.isDirectory(dir), "created on open");

        target.put("chunks/bb/bb2", new byte[] {2});
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
    void putIfAbsentCreatesOnce() throws Exception {
        BackupTarget target = BackupTarget.open(TestTrees.url(tmp.resolve("t")));
        assertTrue(target.putIfAbsent("config", new byte[] {1}));
        assertFalse(target.putIfAbsent("config", new byte[] {2}));
        assertArrayEquals(new byte[] {1}, target.get("config"));
        assertEquals(List.of("config"), target.list(""), "no staging file left behind");
    }

    @Test
    void urlIsTheOneGiven() throws Exception {
        String url = TestTrees.url(tmp.resolve("t"));
        assertEquals(url, BackupTarget.open(url).url());
        assertEquals(url, BackupRepository.open(url, null).url());
    }
}
