package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ChunkCodecTest {
    private static final RepositoryKeys KEYS = RepositoryKeys.derive("pw".getBytes(StandardCharsets.UTF_8),
            new byte[16], 10_000);

    @Test
    void compressesWhatShrinksAndStoresTheRestAsItIs() throws Exception {
        ChunkCodec codec = new ChunkCodec(null);
        byte[] text = "abc".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
        byte[] noise = TestTrees.random(10_000, 1);

        byte[] sealedText = codec.seal(text, 0, text.length, "id");
        byte[] sealedNoise = codec.seal(noise, 0, noise.length, "id");

        assertEquals(1, sealedText[0]);
        assertEquals(1, sealedText[1], "zstd flag");
        assertTrue(sealedText.length < text.length / 10);
        assertEquals(0, sealedNoise[1], "stored uncompressed");
        assertEquals(noise.length + 2, sealedNoise.length);
        assertArrayEquals(text, TestTrees.bytes(codec.open(sealedText, "id", 1 << 20)));
        assertArrayEquals(noise, TestTrees.bytes(codec.open(sealedNoise, "id", 1 << 20)));
        assertSame(sealedNoise, codec.open(sealedNoise, "id", 1 << 20).array(), "a plain object is opened in place");
        assertEquals(TestTrees.sha256(text), codec.chunkId(text, 0, text.length));
    }

    @Test
    void encryptedObjectsAreBoundToTheirAad() throws Exception {
        ChunkCodec codec = new ChunkCodec(KEYS);
        byte[] text = "hello hello hello hello".getBytes(StandardCharsets.US_ASCII);
        byte[] sealed = codec.seal(text, 0, text.length, "backups/a");

        assertEquals(3, sealed[1] | 1, "encrypted flag");
        assertArrayEquals(text, TestTrees.bytes(codec.open(sealed, "backups/a", 1024)));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(sealed, "backups/b", 1024));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> new ChunkCodec(null).open(sealed, "backups/a", 1024));
        byte[] plain = new ChunkCodec(null).seal(text, 0, text.length, "backups/a");
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(plain, "backups/a", 1024));
    }

    @Test
    void sealingIntoAnArrayUsedAgainGivesWhatSealingAloneGives() throws Exception {
        byte[] text = "abc".repeat(3_000).getBytes(StandardCharsets.US_ASCII);
        byte[] noise = TestTrees.random(9_000, 2);
        for (ChunkCodec codec : new ChunkCodec[] {new ChunkCodec(null), new ChunkCodec(KEYS)}) {
            byte[] out = new byte[codec.storedBytes(noise.length)];
            byte[] scratch = new byte[ChunkCodec.scratchBytes(noise.length)];
            for (byte[] data : new byte[][] {noise, text, noise}) {
                Arrays.fill(out, (byte) 0x5a); // what the array held before must not matter
                int stored = codec.sealInto(data, 0, data.length, "id", scratch, out);
                byte[] alone = codec.seal(data, 0, data.length, "id");
                assertEquals(alone.length, stored, "the same length as a sealing of its own");
                assertArrayEquals(data, TestTrees.bytes(codec.open(Arrays.copyOf(out, stored), "id", 1 << 20)));
            }
        }
    }

    @Test
    void refusesOversizedAndUnknownObjects() {
        ChunkCodec codec = new ChunkCodec(null);
        byte[] text = "z".repeat(100_000).getBytes(StandardCharsets.US_ASCII);
        byte[] sealed = codec.seal(text, 0, text.length, "id");
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(sealed, "id", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(new byte[] {2, 0, 1}, "id", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(new byte[] {1, 8, 1}, "id", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(new byte[] {1, 1, 1, 2, 3}, "id", 1000));
    }

    /**
     * A manifest is compressed as it is serialised, in blocks: each opens whole, and the sizes they
     * state are added up against the limit before anything is allocated.
     */
    @Test
    void blocksCompressedAsWrittenOpenWithinTheLimit() throws Exception {
        byte[] text = new byte[ZstdBlocks.BLOCK_BYTES * 2 + 12345];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + (i * 7 + i / 4096) % 26);
        }
        for (ChunkCodec codec : new ChunkCodec[] {new ChunkCodec(null), new ChunkCodec(KEYS)}) {
            ZstdBlocks.Writer blocks = new ZstdBlocks.Writer();
            blocks.write(text, 0, 1000);
            blocks.write(text[1000]);
            blocks.write(text, 1001, text.length - 1001);
            byte[] sealed = codec.seal(blocks, "backups/big");

            assertEquals(4, sealed[1] & 5, "the blocks flag, not the one-frame one");
            assertTrue(sealed.length < text.length / 10, "compressed: " + sealed.length);
            assertArrayEquals(text, TestTrees.bytes(codec.open(sealed, "backups/big", text.length)));
            BackupException e = TestTrees.assertFails(BackupException.Kind.CORRUPT,
                    () -> codec.open(sealed, "backups/big", text.length - 1));
            assertTrue(e.getMessage().contains("more than the limit"), e.getMessage());
        }
        ChunkCodec plain = new ChunkCodec(null);
        byte[] cut = plain.seal(new ZstdBlocks.Writer(), "m");
        assertEquals(0, TestTrees.bytes(plain.open(cut, "m", 10)).length, "no block: empty");
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> plain.open(new byte[] {1, 4, 0, 0, 0, 9, 1}, "m", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> plain.open(new byte[] {1, 4, 0, 0}, "m", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> plain.open(new byte[] {1, 4, 0, 0, 0, 2, 7, 7}, "m", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> plain.open(new byte[] {1, 5, 1, 2, 3}, "m", 1000));
    }
}
