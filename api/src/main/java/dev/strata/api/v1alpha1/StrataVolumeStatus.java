package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;
import java.util.Map;

/** What the node plugin reports about a volume it made. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StrataVolumeStatus implements NodeReport {
    @JsonPropertyDescription("Pending until the node acts, then Ready or Failed.")
    private String phase;
    @JsonPropertyDescription("The size the volume has now.")
    private long capacityBytes;
    @JsonPropertyDescription("Where the storage is on the node: a directory or a device.")
    private String path;
    @JsonPropertyDescription("What the engine reports about how it made the volume (shown in the volume context).")
    private Map<String, String> attributes;
    @JsonPropertyDescription("Nodes where the volume is staged or published.")
    private List<String> publishedNodes;
    @JsonPropertyDescription("When Failed or when the last change failed: the gRPC code the node's engine answered.")
    private String errorCode;
    @JsonPropertyDescription("A human-readable reason for the phase or the last error.")
    private String message;
    @JsonPropertyDescription("The spec generation the node last acted on.")
    private Long observedGeneration;
    @JsonPropertyDescription("When the node made the volume (RFC 3339).")
    private String createdAt;
    @JsonPropertyDescription("Ready, Healthy (the CSI volume condition) and Resized.")
    private List<Condition> conditions;

    public String getPhase() {
        return phase;
    }

    public void setPhase(String phase) {
        this.phase = phase;
    }

    public long getCapacityBytes() {
        return capacityBytes;
    }

    public void setCapacityBytes(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    public Map<String, String> getAttributes() {
        return attributes;
    }

    public void setAttributes(Map<String, String> attributes) {
        this.attributes = attributes;
    }

    public List<String> getPublishedNodes() {
        return publishedNodes;
    }

    public void setPublishedNodes(List<String> publishedNodes) {
        this.publishedNodes = publishedNodes;
    }

    public String getErrorCode() {
        return errorCode;
    }

    public void setErrorCode(String errorCode) {
        this.errorCode = errorCode;
    }

    public String getMessage() {
        return message;
    }

    public void setMessage(String message) {
        this.message = message;
    }

    public Long getObservedGeneration() {
        return observedGeneration;
    }

    public void setObservedGeneration(Long observedGeneration) {
        this.observedGeneration = observedGeneration;
    }

    public String getCreatedAt() {
        return createdAt;
    }

    public void setCreatedAt(String createdAt) {
        this.createdAt = createdAt;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }
}
