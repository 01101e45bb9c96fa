package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.common.Quantities;
import dev.strata.common.Validate;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a pod author may ask of an inline volume: the node's admin decides, the pod spec does not.
 * The engine is fixed here ({@code none} turns inline volumes off); the volume attributes may carry
 * only the {@code allowedKeys} (by default {@code size}); a volume is at most {@code maxBytes}, and
 * the node holds at most {@code maxVolumes} of them at once. Anything else in a pod's
 * {@code volumeAttributes} is refused, naming the key.
 */
public record EphemeralPolicy(String engine, Set<String> allowedKeys, long maxBytes, int maxVolumes) {
    public static final String NONE = "none";
    public static final String SIZE = "size";
    /** volume_context keys kubelet adds about the pod; not parameters of the volume. */
    private static final String KUBELET_PREFIX = "csi.storage.k8s.io/";
    public static final EphemeralPolicy DEFAULT = new EphemeralPolicy("overlay", Set.of(SIZE),
            Quantities.parse("10Gi"), 32);

    public EphemeralPolicy {
        allowedKeys = Set.copyOf(allowedKeys);
        if (allowedKeys.contains(LocalStorage.ENGINE_PARAMETER)) {
            throw new IllegalArgumentException("inline volumes may not choose their engine; it is --ephemeral-engine");
        }
        if (maxBytes <= 0 || maxVolumes < 0) {
            throw new IllegalArgumentException("the inline volume limits must be positive");
        }
    }

    public boolean enabled() {
        return !engine.equals(NONE) && maxVolumes > 0;
    }

    /**
     * The parameters of an inline volume with these attributes: the allowed keys as given, and the
     * node's engine. Kubelet's own keys ({@code csi.storage.k8s.io/...}) and {@code size} are not
     * parameters; any other key not allowed is INVALID_ARGUMENT naming it.
     */
    public Map<String, String> parameters(Map<String, String> attributes) {
        Map<String, String> parameters = new HashMap<>();
        for (Map.Entry<String, String> e : attributes.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(KUBELET_PREFIX) || key.equals(SIZE)) {
                continue;
            }
            if (!allowedKeys.contains(key)) {
                throw CsiException.invalidArgument("volume_context." + Validate.printable(key), "inline volumes "
                        + "may not set it (this node allows: " + String.join(", ", new TreeSet<>(allowedKeys))
                        + "; the engine is the node's --ephemeral-engine, " + engine + ")");
            }
            parameters.put(key, e.getValue());
        }
        parameters.put(LocalStorage.ENGINE_PARAMETER, engine);
        return parameters;
    }

    /** The size asked for ({@code defaultBytes} when none), within the node's limit. */
    public long size(String text, long defaultBytes) {
        long bytes;
        try {
            bytes = text == null ? Math.min(defaultBytes, maxBytes) : Quantities.parse(text);
        } catch (IllegalArgumentException e) {
            throw CsiException.invalidArgument("volume_context." + SIZE, Validate.escape(String.valueOf(e.getMessage())));
        }
        if (bytes <= 0) {
            throw CsiException.invalidArgument("volume_context." + SIZE, "must be positive");
        }
        if (bytes > maxBytes) {
            throw CsiException.invalidArgument("volume_context." + SIZE, Validate.printable(text) + " is more than the "
                    + Quantities.human(maxBytes) + " this node allows an inline volume (--ephemeral-max-size)");
        }
        return bytes;
    }
}
