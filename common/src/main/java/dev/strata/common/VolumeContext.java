package dev.strata.common;

/**
 * The volume_context keys Strata sets on every volume it creates. Kubernetes keeps them in the PV
 * and passes them to the node; stratactl reads the name back, since CSI has no lookup by name.
 */
public final class VolumeContext {
    public static final String NAME = "strata.csi.dev/name";
    public static final String ENGINE = "strata.csi.dev/engine";

    private VolumeContext() {}
}
