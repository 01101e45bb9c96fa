package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** A storage pool on a node (the thin pool), as its engine reads it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PoolStatus {
    @JsonPropertyDescription("The pool's name.")
    @Required
    private String name;
    @JsonPropertyDescription("The engine that uses it.")
    private String engine;
    @JsonPropertyDescription("The pool's data size.")
    private long dataBytes;
    @JsonPropertyDescription("Data in use.")
    private long usedDataBytes;
    @JsonPropertyDescription("The pool's metadata size.")
    private long metadataBytes;
    @JsonPropertyDescription("Metadata in use.")
    private long usedMetadataBytes;
    @JsonPropertyDescription("ok, or why the pool cannot take writes (out of data space, read-only, needs a check).")
    private String health;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getEngine() {
        return engine;
    }

    public void setEngine(String engine) {
        this.engine = engine;
    }

    public long getDataBytes() {
        return dataBytes;
    }

    public void setDataBytes(long dataBytes) {
        this.dataBytes = dataBytes;
    }

    public long getUsedDataBytes() {
        return usedDataBytes;
    }

    public void setUsedDataBytes(long usedDataBytes) {
        this.usedDataBytes = usedDataBytes;
    }

    public long getMetadataBytes() {
        return metadataBytes;
    }

    public void setMetadataBytes(long metadataBytes) {
        this.metadataBytes = metadataBytes;
    }

    public long getUsedMetadataBytes() {
        return usedMetadataBytes;
    }

    public void setUsedMetadataBytes(long usedMetadataBytes) {
        this.usedMetadataBytes = usedMetadataBytes;
    }

    public String getHealth() {
        return health;
    }

    public void setHealth(String health) {
        this.health = health;
    }
}
