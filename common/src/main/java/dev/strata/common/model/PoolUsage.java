package dev.strata.common.model;

/**
 * A storage pool an engine draws on (the thin pool): its size, what is used, and what is wrong with it
 * ({@code problem}; null when nothing is).
 */
public record PoolUsage(String name, long dataBytes, long usedDataBytes, long metadataBytes, long usedMetadataBytes,
        String problem) {}
