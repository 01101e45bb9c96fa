package dev.strata.node.engine.thin;

/**
 * How fast the pool's data fills, from the used-block counts the monitor polls: measured over windows
 * of at least {@code windowNanos}, because dm-thin allocates in bursts (each writeback, each sync), and
 * a rate over one short poll would swing between nothing and many times the real one.
 */
final class FillRate {
    private final long windowNanos;
    private long startNanos;
    private long startUsed = -1;
    private double blocksPerSecond;

    FillRate(long windowNanos) {
        this.windowNanos = windowNanos;
    }

    /** Takes one poll's used-block count; a window that is long enough gives the rate until the next one. */
    void observe(long usedBlocks, long nanos) {
        if (startUsed < 0 || usedBlocks < startUsed) { // the first look, or blocks freed: start over
            blocksPerSecond = 0;
            startUsed = usedBlocks;
            startNanos = nanos;
            return;
        }
        long elapsed = nanos - startNanos;
        if (elapsed >= windowNanos) {
            blocksPerSecond = (usedBlocks - startUsed) * 1e9 / elapsed;
            startUsed = usedBlocks;
            startNanos = nanos;
        }
    }

    /** Whether {@code freeBlocks} would be used up within {@code seconds} at the last window's rate. */
    boolean fillsWithin(long freeBlocks, double seconds) {
        return blocksPerSecond * seconds > freeBlocks;
    }

    double blocksPerSecond() {
        return blocksPerSecond;
    }
}
