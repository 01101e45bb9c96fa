package dev.strata.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Names and small helpers shared by the controller plugin and the node plugins. */
public final class Resources {
    public static final String GROUP = "strata.csi.dev";
    public static final String VERSION = "v1alpha1";
    /** Label on volumes and snapshots naming their node, so each node plugin watches only its own. */
    public static final String NODE_LABEL = GROUP + "/node";
    /** Held by the node plugin until the storage behind a volume or snapshot is gone. */
    public static final String FINALIZER = GROUP + "/node-storage";
    /**
     * Annotation the controller sets (to "true") before it deletes a volume or snapshot for a
     * DeleteVolume or DeleteSnapshot, or after a failed create. The node plugin removes storage only
     * for a resource that carries it: one deleted any other way (its CRD deleted by {@code kubectl
     * delete -k}, or by hand) lets its finalizer go and keeps the data.
     */
    public static final String DELETE_STORAGE = GROUP + "/delete-storage";

    public static final String PENDING = "Pending";
    public static final String READY = "Ready";
    public static final String FAILED = "Failed";

    public static final String CONDITION_READY = "Ready";
    public static final String CONDITION_HEALTHY = "Healthy";

    public static final String FILESYSTEM = "Filesystem";
    public static final String BLOCK = "Block";
    public static final String SOURCE_SNAPSHOT = "Snapshot";
    public static final String SOURCE_VOLUME = "Volume";

    private Resources() {}

    /** The condition of {@code type} among {@code conditions} (either may be null), if there is one. */
    public static Optional<Condition> condition(List<Condition> conditions, String type) {
        return conditions == null ? Optional.empty()
                : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    /**
     * {@code conditions} with the condition of {@code type} set; its transition time moves only when
     * its status changes, as Kubernetes conventions ask.
     */
    public static List<Condition> withCondition(List<Condition> conditions, String type, boolean status,
            String reason, String message, Long generation) {
        List<Condition> result = new ArrayList<>();
        String since = Instant.now().toString();
        String value = status ? "True" : "False";
        if (conditions != null) {
            for (Condition c : conditions) {
                if (c.getType().equals(type)) {
                    if (value.equals(c.getStatus())) {
                        since = c.getLastTransitionTime();
                    }
                } else {
                    result.add(c);
                }
            }
        }
        result.add(new ConditionBuilder().withType(type).withStatus(value).withReason(reason).withMessage(message)
                .withObservedGeneration(generation).withLastTransitionTime(since).build());
        return result;
    }
}
