package dev.strata.common.model;

/** CSI access modes, in Strata's own enum so that storage code does not depend on the wire types. */
public enum AccessMode {
    SINGLE_NODE_WRITER,
    SINGLE_NODE_READER_ONLY,
    MULTI_NODE_READER_ONLY,
    MULTI_NODE_SINGLE_WRITER,
    MULTI_NODE_MULTI_WRITER,
    SINGLE_NODE_SINGLE_WRITER,
    SINGLE_NODE_MULTI_WRITER;

    public boolean readOnly() {
        return this == SINGLE_NODE_READER_ONLY || this == MULTI_NODE_READER_ONLY;
    }

    /** Modes that allow one publication at a time on a node (Kubernetes ReadWriteOncePod). */
    public boolean singlePublication() {
        return this == SINGLE_NODE_SINGLE_WRITER;
    }
}
