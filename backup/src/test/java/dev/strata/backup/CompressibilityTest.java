package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CompressibilityTest {
    @Test
    void randomBytesAreNotWorthTryingFromHalfAKibibyteUp() {
        for (int size : new int[] {512, 1024, 4096, 12_288, 1 << 20}) {
            byte[] noise = TestTrees.random(size, size);
            assertFalse(Compressibility.worthTrying(noise, 0, size), size + " random bytes");
        }
    }

    @Test
    void textCodeAndZerosAreWorthTrying() throws Exception {
        byte[] text = ("The quick brown fox jumps over the lazy dog; " + "pack my box with five dozen liquor jugs. ")
                .repeat(500).getBytes(StandardCharsets.US_ASCII);
        assertTrue(Compressibility.worthTrying(text, 0, text.length));
        byte[] code = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(
                Compressibility.class.getResource("Compressibility.class").toURI()));
        assertTrue(Compressibility.worthTrying(code, 0, code.length), "a class file");
        assertTrue(Compressibility.worthTrying(new byte[1 << 20], 0, 1 << 20), "zeros");
    }

    /** A big chunk is judged by its start, middle and end: text in any of them is worth a try. */
    @Test
    void aBigChunkIsSampledAtItsStartMiddleAndEnd() {
        byte[] mixed = TestTrees.random(1 << 20, 3);
        assertFalse(Compressibility.worthTrying(mixed, 0, mixed.length));
        java.util.Arrays.fill(mixed, (1 << 19) - 2048, (1 << 19) + 2048, (byte) 'a');
        assertTrue(Compressibility.worthTrying(mixed, 0, mixed.length), "a compressible middle");
        assertFalse(Compressibility.worthTrying(mixed, 0, 1 << 18), "the same bytes' random first quarter");
    }

    @Test
    void bitsPerByteIsShannonEntropy() {
        int[] counts = new int[256];
        counts['a'] = 50;
        counts['b'] = 50;
        assertEquals(1.0, Compressibility.bitsPerByte(counts, 100), 1e-9);
        java.util.Arrays.fill(counts, 4);
        assertEquals(8.0, Compressibility.bitsPerByte(counts, 1024), 1e-9);
        assertEquals(0.0, Compressibility.bitsPerByte(new int[256], 0));
    }
}
