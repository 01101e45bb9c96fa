package dev.strata.common.model;

/**
 * Space a node (or engine) can still give, and the size bounds of one volume: the largest volume it
 * could make at all (a request above that is out of range), and the smallest. What fits now is
 * {@code availableBytes}; a request above that but within the maximum lacks capacity, for now.
 */
public record Capacity(long availableBytes, long maximumVolumeBytes, long minimumVolumeBytes) {
    /** The largest volume a CreateVolume could get now: what GetCapacity reports, and the scheduler uses. */
    public long largestNow() {
        return Math.min(availableBytes, maximumVolumeBytes);
    }
}
