package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChunkerTest {
    private static final RepositoryConfig.ChunkerParams SMALL = new RepositoryConfig.ChunkerParams(99, 1024, 4096, 16384);

    private static List<byte[]> split(Chunker chunker, InputStream in) throws IOException {
        List<byte[]> chunks = new ArrayList<>();
        chunker.reader().split(in, (buffer, offset, length) -> chunks.add(java.util.Arrays.copyOfRange(buffer, offset, offset + length)));
        return chunks;
    }

    /** Hands out a few bytes per read, as pipes and sockets do. */
    private static InputStream trickle(byte[] data) {
        return new FilterInputStream(new ByteArrayInputStream(data)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, 777));
            }
        };
    }

    @Test
    void chunksAreWithinBoundsConcatenateToTheInputAndDoNotDependOnReadSizes() throws Exception {
        byte[] data = TestTrees.random(1 << 20, 3);
        Chunker chunker = new Chunker(SMALL);
        List<byte[]> chunks = split(chunker, new ByteArrayInputStream(data));
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i = 0; i < chunks.size(); i++) {
            int length = chunks.get(i).length;
            assertTrue(length <= 16384 && (length >= 1024 || i == chunks.size() - 1), "chunk length " + length);
            joined.write(chunks.get(i));
        }
        assertArrayEquals(data, joined.toByteArray());
        double average = (double) data.length / chunks.size();
        assertTrue(average > 2048 && average < 8192, "average chunk " + average);
        List<byte[]> trickled = split(chunker, trickle(data));
        assertEquals(chunks.size(), trickled.size());
        for (int i = 0; i < chunks.size(); i++) {
            assertArrayEquals(chunks.get(i), trickled.get(i));
        }
    }

    /** The read buffer starts at 64 KiB and grows: cuts must be those of the whole data at once. */
    @Test
    void aGrowingBufferCutsWhereTheWholeDataWouldBeCut() throws Exception {
        RepositoryConfig.ChunkerParams large = new RepositoryConfig.ChunkerParams(7, 32 << 10, 128 << 10, 512 << 10);
        Chunker chunker = new Chunker(large);
        byte[] data = TestTrees.random(6 << 20, 5);
        List<Integer> expected = new ArrayList<>();
        for (int offset = 0; offset < data.length; ) {
            int length = chunker.cut(data, offset, data.length - offset);
            expected.add(length);
            offset += length;
        }
        List<Integer> streamed = split(chunker, trickle(data)).stream().map(c -> c.length).toList();
        assertEquals(expected, streamed);
        assertTrue(streamed.stream().anyMatch(n -> n > 64 << 10), "some chunk needed a grown buffer");
    }

    @Test
    void emptyInputHasNoChunksAndSmallInputIsOne() throws Exception {
        Chunker chunker = new Chunker(SMALL);
        assertEquals(0, split(chunker, new ByteArrayInputStream(new byte[0])).size());
        assertEquals(1, split(chunker, new ByteArrayInputStream(new byte[1000])).size());
        Chunker standard = new Chunker(RepositoryConfig.ChunkerParams.defaults(1));
        assertEquals(1, split(standard, new ByteArrayInputStream(new byte[500_000])).size());
    }

    @Test
    void anInsertionChangesOnlyNearbyChunks() throws Exception {
        byte[] data = TestTrees.random(1 << 20, 4);
        byte[] shifted = new byte[data.length + 3];
        System.arraycopy(data, 0, shifted, 0, 1000);
        System.arraycopy(data, 1000, shifted, 1003, data.length - 1000);
        Chunker chunker = new Chunker(SMALL);
        Set<String> before = ids(split(chunker, new ByteArrayInputStream(data)));
        Set<String> after = ids(split(chunker, new ByteArrayInputStream(shifted)));
        after.removeAll(before);
        assertTrue(after.size() <= 2, "chunks changed by a 3-byte insertion: " + after.size());
    }

    @Test
    void theSeedChangesTheCuts() throws Exception {
        byte[] data = TestTrees.random(1 << 20, 5);
        Set<String> one = ids(split(new Chunker(SMALL), new ByteArrayInputStream(data)));
        Set<String> other = ids(split(new Chunker(new RepositoryConfig.ChunkerParams(100, 1024, 4096, 16384)),
                new ByteArrayInputStream(data)));
        one.retainAll(other);
        assertTrue(one.size() < 10, "chunks shared across seeds: " + one.size());
    }

    private static Set<String> ids(List<byte[]> chunks) {
        Set<String> ids = new HashSet<>();
        chunks.forEach(c -> ids.add(TestTrees.sha256(c)));
        return ids;
    }
}
