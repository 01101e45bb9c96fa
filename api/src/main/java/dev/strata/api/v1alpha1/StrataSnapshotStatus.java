package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** What the node plugin reports about a snapshot it took. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StrataSnapshotStatus implements NodeReport {
    @JsonPropertyDescription("Pending until the node acts, then Ready or Failed.")
    private String phase;
    @JsonPropertyDescription("True once the snapshot can be restored (and, with a backup target, once its "
            + "backup is stored).")
    private boolean readyToUse;
    @JsonPropertyDescription("With a backup target: where the backup is (TARGET#NAME), the value of a "
            + "StorageClass's fromBackup parameter that restores it on any node.")
    private String backupUrl;
    @JsonPropertyDescription("With a backup target: Uploading, Stored or Failed (backupError says why; the "
            + "node tries again).")
    private String backupPhase;
    @JsonPropertyDescription("After an upload failed, until one is stored: the gRPC code CreateSnapshot answers "
            + "while backupPhase is Failed (the VolumeSnapshot's error shows it); kept while it is tried again.")
    private String backupErrorCode;
    @JsonPropertyDescription("After an upload failed, until one is stored: why the last one failed.")
    private String backupError;
    @JsonPropertyDescription("The smallest volume the snapshot can be restored into.")
    private long sizeBytes;
    @JsonPropertyDescription("The engine that holds it.")
    private String engine;
    @JsonPropertyDescription("When it was taken (RFC 3339).")
    private String createdAt;
    @JsonPropertyDescription("When Failed: the gRPC code the node's engine answered.")
    private String errorCode;
    @JsonPropertyDescription("A human-readable reason for the phase.")
    private String message;
    @JsonPropertyDescription("The spec generation the node last acted on.")
    private Long observedGeneration;
    @JsonPropertyDescription("Ready.")
    private List<Condition> conditions;

    public String getPhase() {
        return phase;
    }

    public void setPhase(String phase) {
        this.phase = phase;
    }

    public boolean isReadyToUse() {
        return readyToUse;
    }

    public void setReadyToUse(boolean readyToUse) {
        this.readyToUse = readyToUse;
    }

    public String getBackupUrl() {
        return backupUrl;
    }

    public void setBackupUrl(String backupUrl) {
        this.backupUrl = backupUrl;
    }

    public String getBackupPhase() {
        return backupPhase;
    }

    public void setBackupPhase(String backupPhase) {
        this.backupPhase = backupPhase;
    }

    public String getBackupErrorCode() {
        return backupErrorCode;
    }

    public void setBackupErrorCode(String backupErrorCode) {
        this.backupErrorCode = backupErrorCode;
    }

    public String getBackupError() {
        return backupError;
    }

    public void setBackupError(String backupError) {
        this.backupError = backupError;
    }

    public long getSizeBytes() {
        return sizeBytes;
    }

    public void setSizeBytes(long sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    public String getEngine() {
        return engine;
    }

    public void setEngine(String engine) {
        this.engine = engine;
    }

    public String getCreatedAt() {
        return createdAt;
    }

    public void setCreatedAt(String createdAt) {
        this.createdAt = createdAt;
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

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }
}
