package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one rule by which backups and repacks fill packs. */
class PackFillerTest {
    private static final int MIB = 1 << 20;

    /** What the sink was handed: a copy of each pack's bytes, and its chunks' places. */
    private record Put(String name, byte[] bytes, List<Manifest.ChunkRef> chunks) {}

    private final List<Put> puts = new ArrayList<>();
    private final PackFiller filler = new PackFiller(() -> new byte[PackFiller.PACK_BYTES],
            (name, buffer, length, chunks) -> puts.add(new Put(name, Arrays.copyOf(buffer, length), chunks)));

    @Test
    void aPackIsPutBeforeTheChunkThatWouldTakeItPastItsSize() throws Exception {
        add("a", 3 * MIB, 1);
        add("b", 3 * MIB, 2);
        assertTrue(puts.isEmpty(), "6 MiB: still open");
        Manifest.ChunkRef c = add("c", 3 * MIB, 3); // 9 MiB would be past 8
        assertEquals(1, puts.size());
        assertEquals(6 * MIB, puts.get(0).bytes().length);
        assertEquals(List.of("a", "b"), puts.get(0).chunks().stream().map(Manifest.ChunkRef::id).toList());
        assertEquals(0, c.offset(), "c begins the next pack");
        filler.finish();
        assertEquals(2, puts.size());
        assertEquals(c.pack(), puts.get(1).name());
    }

    @Test
    void aPackThatReachesItsSizeIsPutAtOnce() throws Exception {
        add("a", 4 * MIB, 1);
        add("b", 4 * MIB, 2);
        assertEquals(1, puts.size(), "8 MiB exactly: put without waiting for the next chunk");
        filler.finish();
        assertEquals(1, puts.size(), "nothing left to put");
    }

    @Test
    void eachChunkLandsWhereItsPlaceSays() throws Exception {
        List<Manifest.ChunkRef> places = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            places.add(add("chunk" + i, 300_000 + i * 1000, i));
        }
        filler.finish();
        for (int i = 0; i < places.size(); i++) {
            Manifest.ChunkRef place = places.get(i);
            Put pack = puts.stream().filter(p -> p.name().equals(place.pack())).findFirst().orElseThrow();
            assertTrue(pack.chunks().contains(place), "its pack lists it");
            byte[] expected = filled(place.stored(), i);
            assertArrayEquals(expected, Arrays.copyOfRange(pack.bytes(), (int) place.offset(), (int) place.end()));
        }
        assertTrue(puts.stream().allMatch(p -> p.bytes().length <= PackFiller.PACK_BYTES), "no pack past its size");
    }

    /** A chunk of {@code size} bytes, each {@code fill}, through the filler; its place. */
    private Manifest.ChunkRef add(String id, int size, int fill) throws Exception {
        byte[] from = new byte[size + 10];
        System.arraycopy(filled(size, fill), 0, from, 10, size);
        return filler.add(new Manifest.ChunkRef(id, size), from, 10, size);
    }

    private static byte[] filled(int size, int fill) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) fill);
        return bytes;
    }
}
