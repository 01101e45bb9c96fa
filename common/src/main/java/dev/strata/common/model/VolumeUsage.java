package dev.strata.common.model;

/** NodeGetVolumeStats figures for one volume: bytes and inodes. */
public record VolumeUsage(long totalBytes, long usedBytes, long availableBytes, long totalInodes, long usedInodes,
        long freeInodes) {}
