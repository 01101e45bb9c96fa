package dev.strata.common;

import java.util.Map;
import java.util.TreeMap;

/**
 * The volume_context keys Strata sets on every volume it creates. Kubernetes keeps them in the PV
 * and passes them to the node; stratactl reads the name back, since CSI has no lookup by name.
 */
public final class VolumeContext {
    public static final String NAME = "strata.csi.dev/name";
    public static final String ENGINE = "strata.csi.dev/engine";

    /** Prefix of the keys that carry an engine's attributes of the volume (e.g. {@code strata.csi.dev/sizeLimit}). */
    public static final String PREFIX = "strata.csi.dev/";

    private VolumeContext() {}

    /** The engine's attributes of a volume as volume_context entries. */
    public static Map<String, String> attributes(Map<String, String> attributes) {
        Map<String, String> context = new TreeMap<>();
        attributes.forEach((k, v) -> context.put(PREFIX + k, v));
        return context;
    }
}
