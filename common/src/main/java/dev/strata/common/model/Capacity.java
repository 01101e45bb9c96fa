package dev.strata.common.model;

/** Space a node (or engine) can still give, and the size bounds of one volume. */
public record Capacity(long availableBytes, long maximumVolumeBytes, long minimumVolumeBytes) {}
