package dev.strata.node.engine.hostpath;

/** Where a hostpath volume lives, and whether Strata made that directory (and so may remove it). */
public record HostPathVolume(String volumeId, String path, boolean created) {}
