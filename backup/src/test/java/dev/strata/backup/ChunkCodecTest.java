package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
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
    void refusesOversizedAndUnknownObjects() {
        ChunkCodec codec = new ChunkCodec(null);
        byte[] text = "z".repeat(100_000).getBytes(StandardCharsets.US_ASCII);
        byte[] sealed = codec.seal(text, 0, text.length, "id");
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(sealed, "id", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(new byte[] {2, 0, 1}, "id", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(new byte[] {1, 8, 1}, "id", 1000));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> codec.open(new byte[] {1, 1, 1, 2, 3}, "id", 1000));
    }
}
