package dev.strata.common.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one atomic write: a reader sees the old file or the new one whole, and no temporary file stays. */
class AtomicFileTest {
    @TempDir
    Path dir;

    private List<String> names() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void replacesTheFileWholeAndLeavesNoTemporaryFile() throws Exception {
        Path file = dir.resolve("record.json");
        AtomicFile.write(file, "old".getBytes(StandardCharsets.UTF_8));
        AtomicFile.write(file, "new".getBytes(StandardCharsets.UTF_8), AtomicFile.Durability.CRASH_ONLY);
        AtomicFile.write(file, "newest".getBytes(StandardCharsets.UTF_8));
        assertEquals("newest", Files.readString(file));
        assertEquals(List.of("record.json"), names());
    }

    /** A cancelled upload interrupts its thread mid-write: the old file stays, and no temporary one. */
    @Test
    void aWriteOnAnInterruptedThreadFailsAndLeavesNoTemporaryFile() throws Exception {
        Path file = dir.resolve("manifest");
        AtomicFile.write(file, "old".getBytes(StandardCharsets.UTF_8));
        Thread.currentThread().interrupt();
        try {
            assertThrows(java.nio.channels.ClosedByInterruptException.class,
                    () -> AtomicFile.write(file, new byte[1 << 20]));
        } finally {
            Thread.interrupted(); // clear it for the next test
        }
        assertEquals("old", Files.readString(file));
        assertEquals(List.of("manifest"), names());
    }

    @Test
    void aTemporaryFileIsRecognisedSoThatReadersSkipIt() {
        assertTrue(AtomicFile.isTemporary(".record.json.tmp"));
        assertFalse(AtomicFile.isTemporary("record.json"));
        assertFalse(AtomicFile.isTemporary(".hidden"));
    }

    @Test
    void aRenameMovesTheEntryAndSyncsBothDirectories() throws Exception {
        Path from = Files.createDirectories(dir.resolve("a/.partial-x"));
        Files.writeString(from.resolve("f"), "data");
        Path to = Files.createDirectories(dir.resolve("b")).resolve("x");
        AtomicFile.rename(from, to);
        assertEquals("data", Files.readString(to.resolve("f")));
        assertFalse(Files.exists(from));
    }
}
