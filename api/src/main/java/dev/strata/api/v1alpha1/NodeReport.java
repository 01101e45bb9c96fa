package dev.strata.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * What a node reports on a volume or a snapshot it was asked for: where it stands, its last error,
 * the spec generation it acted on and its conditions. The controller reads it; the node writes it.
 */
public interface NodeReport {
    String getPhase();

    void setPhase(String phase);

    String getErrorCode();

    void setErrorCode(String errorCode);

    String getMessage();

    void setMessage(String message);

    Long getObservedGeneration();

    void setObservedGeneration(Long observedGeneration);

    List<Condition> getConditions();

    void setConditions(List<Condition> conditions);
}
