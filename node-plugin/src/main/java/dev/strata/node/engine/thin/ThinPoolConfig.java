package dev.strata.node.engine.thin;

import java.nio.file.Path;

/**
 * Where the node's thin pool lives and how it behaves. {@code data} and {@code metadata} are block
 * devices, or files (sparse, made at the given sizes and attached to loop devices), as in Convoy's
 * recipe. Chunk size in 512-byte sectors (64 KiB by default); the low-water mark in chunks (dm-thin
 * raises an event when free space falls below it); when full, writes fail at once rather than
 * queue; discards pass down to the data device. {@code overcommit} is how many times the data
 * device's size the volumes' sizes may add up to. A pool on files grows its data file, online, up to
 * {@code maxDataBytes} when free space runs low ({@link ThinPoolMonitor}, which reads the pool's status
 * every {@code pollMillis}); at {@code dataBytes} or on devices it never grows.
 */
public record ThinPoolConfig(Path data, Path metadata, long dataBytes, long metadataBytes, int chunkSectors,
        long lowWaterChunks, boolean discardPassdown, double overcommit, long maxDataBytes, long pollMillis) {
    public static final int DEFAULT_CHUNK_SECTORS = 128;
    public static final long DEFAULT_POLL_MILLIS = 5000;

    /** A pool that does not grow, its status read every {@link #DEFAULT_POLL_MILLIS}. */
    public ThinPoolConfig(Path data, Path metadata, long dataBytes, long metadataBytes, int chunkSectors,
            long lowWaterChunks, boolean discardPassdown, double overcommit) {
        this(data, metadata, dataBytes, metadataBytes, chunkSectors, lowWaterChunks, discardPassdown, overcommit,
                dataBytes, DEFAULT_POLL_MILLIS);
    }

    public ThinPoolConfig {
        if (maxDataBytes > dataBytes && onDevices(data)) {
            throw new IllegalArgumentException("a pool on block devices cannot grow by itself: a maximum size is for "
                    + "pools on files");
        }
        if (pollMillis <= 0) {
            throw new IllegalArgumentException("the pool's poll interval must be positive: " + pollMillis);
        }
        if (chunkSectors < 128 || chunkSectors % 128 != 0) {
            throw new IllegalArgumentException("chunk size must be a multiple of 64 KiB (128 sectors): " + chunkSectors);
        }
        if (overcommit < 1) {
            throw new IllegalArgumentException("over-commit ratio must be at least 1: " + overcommit);
        }
    }

    /** A pool on two files under {@code dir}: the metadata file is 1/1000 of the data, at least 16 MiB. */
    public static ThinPoolConfig files(Path dir, long dataBytes, double overcommit) {
        return new ThinPoolConfig(dir.resolve("data"), dir.resolve("metadata"), dataBytes,
                Math.max(16L << 20, dataBytes / 1000), DEFAULT_CHUNK_SECTORS, 1024, true, overcommit);
    }

    long chunkBytes() {
        return chunkSectors * 512L;
    }

    /** Whether the pool may grow its files (on files, with a maximum above the first size). */
    boolean grows() {
        return !onDevices(data) && maxDataBytes > dataBytes;
    }

    private static boolean onDevices(Path data) {
        return data.startsWith("/dev/");
    }
}
