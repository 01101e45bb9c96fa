package dev.strata.node.engine.thin;

import java.nio.file.Path;

/**
 * Where the node's thin pool lives and how it behaves. {@code data} and {@code metadata} are block
 * devices, or files (sparse, made at the given sizes and attached to loop devices), as in Convoy's
 * recipe. Chunk size in 512-byte sectors (64 KiB by default); the low-water mark in chunks (dm-thin
 * raises an event when free space falls below it); when full, writes fail at once rather than
 * queue; discards pass down to the data device. {@code overcommit} is how many times the data
 * device's size the volumes' sizes may add up to.
 */
public record ThinPoolConfig(Path data, Path metadata, long dataBytes, long metadataBytes, int chunkSectors,
        long lowWaterChunks, boolean discardPassdown, double overcommit) {
    public static final int DEFAULT_CHUNK_SECTORS = 128;

    public ThinPoolConfig {
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
}
