package dev.strata.common.model;

/** A storage pool an engine draws on (the thin pool): its size, what is used, and what is wrong with it (null = nothing). */
public record PoolUsage(String name, long dataBytes, long usedDataBytes, long metadataBytes, long usedMetadataBytes,
        String problem) {}
