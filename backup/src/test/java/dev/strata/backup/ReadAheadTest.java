package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadAheadTest {
    @TempDir
    Path tmp;

    @Test
    void handsBackEveryFileInTheOrderAskedWithItsContent() throws Exception {
        List<Integer> order = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        List<byte[]> written = new ArrayList<>();
        try (ReadAhead<Integer> ahead = new ReadAhead<>((tag, content) -> {
            order.add(tag);
            contents.add(content);
        })) {
            for (int i = 0; i < 100; i++) {
                byte[] bytes = TestTrees.random(i * 997, i);
                written.add(bytes);
                ahead.add(i, Files.write(tmp.resolve("f" + i), bytes));
            }
            ahead.finish();
        }
        assertEquals(java.util.stream.IntStream.range(0, 100).boxed().toList(), order);
        for (int i = 0; i < 100; i++) {
            assertArrayEquals(written.get(i), contents.get(i), "file " + i);
        }
    }

    @Test
    void aFileBiggerThanItReadsAheadComesBackNullAndAFailureIsThrown() throws Exception {
        List<byte[]> contents = new ArrayList<>();
        try (ReadAhead<String> ahead = new ReadAhead<>((tag, content) -> contents.add(content))) {
            ahead.add("grown", Files.write(tmp.resolve("grown"), new byte[ReadAhead.MAX_FILE + 1]));
            ahead.finish();
            assertNull(contents.get(0), "read as a big file instead");

            ahead.add("gone", tmp.resolve("missing"));
            assertThrows(NoSuchFileException.class, ahead::finish);
        }
    }

    @Test
    void aSymlinkIsNotFollowed() throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("link"), Files.write(tmp.resolve("real"), new byte[] {1}));
        try (ReadAhead<String> ahead = new ReadAhead<>((tag, content) -> { })) {
            ahead.add("link", link);
            assertThrows(IOException.class, ahead::finish);
        }
    }
}
