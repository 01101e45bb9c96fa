package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FillRateTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void burstsAreAveragedOverTheWindow() {
        FillRate rate = new FillRate(2 * SECOND);
        rate.observe(1000, 0);
        // a writer syncing 256 blocks every 2 s, polled every 250 ms: the blocks arrive at once
        long used = 1000;
        for (long t = SECOND / 4; t <= 8 * SECOND; t += SECOND / 4) {
            if (t % (2 * SECOND) == 0) {
                used += 256;
            }
            rate.observe(used, t);
        }
        assertEquals(128, rate.blocksPerSecond(), 1e-9);
        assertTrue(rate.fillsWithin(1279, 10), "1,280 blocks in 10 s");
        assertFalse(rate.fillsWithin(1281, 10));
    }

    @Test
    void noRateBeforeAWindowHasPassedAndFreedBlocksStartOver() {
        FillRate rate = new FillRate(2 * SECOND);
        rate.observe(1000, 0);
        rate.observe(5000, SECOND);
        assertEquals(0, rate.blocksPerSecond(), "one second is not a window yet");
        rate.observe(5000, 2 * SECOND);
        assertEquals(2000, rate.blocksPerSecond(), 1e-9);
        rate.observe(100, 3 * SECOND); // a volume deleted
        assertEquals(0, rate.blocksPerSecond());
        assertFalse(rate.fillsWithin(0, 10));
    }
}
