package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
            contents.add(Arrays.copyOf(content.array(), content.remaining()));
        })) {
            for (int i = 0; i < 100; i++) {
                byte[] bytes = TestTrees.random(i * 997, i);
                written.add(bytes);
                // the walk's size may be stale: a file that grew or shrank since is read whole all the same
                long seen = i % 3 == 0 ? bytes.length : i % 3 == 1 ? bytes.length / 2 : bytes.length + 100;
                ahead.add(i, Files.write(tmp.resolve("f" + i), bytes), seen);
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
        List<ByteBuffer> contents = new ArrayList<>();
        try (ReadAhead<String> ahead = new ReadAhead<>((tag, content) -> contents.add(content))) {
            ahead.add("grown", Files.write(tmp.resolve("grown"), new byte[ReadAhead.MAX_FILE + 1]), 10);
            ahead.add("full", Files.write(tmp.resolve("full"), new byte[ReadAhead.MAX_FILE]), ReadAhead.MAX_FILE);
            ahead.finish();
            assertNull(contents.get(0), "read as a big file instead");
            assertEquals(ReadAhead.MAX_FILE, contents.get(1).remaining());

            ahead.add("gone", tmp.resolve("missing"), 1);
            assertThrows(NoSuchFileException.class, ahead::finish);
        }
    }

    @Test
    void aSymlinkIsNotFollowed() throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("link"), Files.write(tmp.resolve("real"), new byte[] {1}));
        try (ReadAhead<String> ahead = new ReadAhead<>((tag, content) -> { })) {
            ahead.add("link", link, 1);
            assertThrows(IOException.class, ahead::finish);
        }
    }
}
