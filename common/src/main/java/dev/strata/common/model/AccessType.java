package dev.strata.common.model;

/** How a volume is consumed: as a mounted filesystem or as a raw block device. */
public enum AccessType {
    MOUNT,
    BLOCK
}
