package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** A backup's block size: the pool's chunk, grown with the device so a manifest stays short. */
class ThinImagesTest {
    private static final long KIB = 1024;
    private static final long GIB = 1L << 30;

    @Test
    void theBlockIsThePoolsChunkUntilAManifestWouldListMoreThan65536() {
        assertEquals(64 * KIB, ThinImages.blockFor(128L << 20, 64 * KIB));
        assertEquals(64 * KIB, ThinImages.blockFor(4 * GIB, 64 * KIB), "4 GiB is exactly 65,536 chunks");
        assertEquals(128 * KIB, ThinImages.blockFor(4 * GIB + 4096, 64 * KIB));
        assertEquals(1600 * KIB, ThinImages.blockFor(100 * GIB, 64 * KIB));
        assertEquals(4096 * KIB, ThinImages.blockFor(1024 * GIB, 64 * KIB), "never more than a backup's largest chunk");
        assertEquals(3 * 1344 * KIB, ThinImages.blockFor(1024 * GIB, 1344 * KIB), "a whole number of a large chunk");
        assertEquals(8192 * KIB, ThinImages.blockFor(GIB, 8192 * KIB), "and never less than one chunk");
    }
}
