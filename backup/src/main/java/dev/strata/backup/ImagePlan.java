package dev.strata.backup;

import java.util.List;

/**
 * What a device image's backup must read, as the device's owner knows it without reading (dm-thin's
 * metadata): the image is cut into blocks of {@code blockBytes}, and only blocks that touch a range
 * are read. Without a {@code parent}, the ranges are where data may be, and every other block reads
 * zero (a hole). With one, the ranges are what changed since the parent's image, and every other
 * block is the parent's.
 *
 * @param blockBytes the block size, the device's own granularity of change (a thin pool's chunk)
 * @param ranges sorted, not overlapping
 * @param parent the backup the ranges are changes from, or null
 */
public record ImagePlan(int blockBytes, List<Range> ranges, String parent) {
    /** A run of bytes of the device. */
    public record Range(long offset, long length) {}

    public ImagePlan {
        if (blockBytes <= 0 || blockBytes % 4096 != 0) {
            throw new IllegalArgumentException("the block size must be a positive multiple of 4 KiB: " + blockBytes);
        }
        ranges = List.copyOf(ranges);
    }

    /** A first backup: only the blocks that may hold data are read. */
    public static ImagePlan allocated(int blockBytes, List<Range> allocated) {
        return new ImagePlan(blockBytes, allocated, null);
    }

    /** An incremental backup: only the blocks changed since {@code parent} are read. */
    public static ImagePlan changedSince(String parent, int blockBytes, List<Range> changed) {
        return new ImagePlan(blockBytes, changed, parent);
    }
}
