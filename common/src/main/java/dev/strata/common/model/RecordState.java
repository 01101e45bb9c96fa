package dev.strata.common.model;

/**
 * Where a record stands. CREATING and DELETING are written before the storage work starts, so that a
 * process killed half-way leaves a record saying what to clean up or finish on restart.
 */
public enum RecordState {
    CREATING,
    READY,
    DELETING
}
