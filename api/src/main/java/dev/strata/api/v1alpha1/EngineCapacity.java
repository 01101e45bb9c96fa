package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** One engine on a node: what it can do and how much it can still give. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EngineCapacity {
    @JsonPropertyDescription("The engine's name.")
    @Required
    private String name;
    @JsonPropertyDescription("Space left for new volumes (what GetCapacity reports).")
    private long allocatableBytes;
    @JsonPropertyDescription("Space the engine has in all: allocatable plus what its volumes hold.")
    private long capacityBytes;
    @JsonPropertyDescription("The largest volume it can make now (0 = no bound beyond allocatable).")
    private long maximumVolumeBytes;
    @JsonPropertyDescription("The smallest volume it makes.")
    private long minimumVolumeBytes;
    @JsonPropertyDescription("mount and/or block.")
    private List<String> accessTypes;
    @JsonPropertyDescription("CSI access modes it supports.")
    private List<String> accessModes;
    @JsonPropertyDescription("Filesystem types it can make (empty = it does not make filesystems).")
    private List<String> fsTypes;
    @JsonPropertyDescription("StorageClass parameters it understands.")
    private List<String> parameterKeys;
    @JsonPropertyDescription("VolumeAttributesClass parameters it understands.")
    private List<String> mutableParameterKeys;
    @JsonPropertyDescription("Whether expansion needs NodeExpandVolume after ControllerExpandVolume.")
    private boolean nodeExpansionRequired;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public long getAllocatableBytes() {
        return allocatableBytes;
    }

    public void setAllocatableBytes(long allocatableBytes) {
        this.allocatableBytes = allocatableBytes;
    }

    public long getCapacityBytes() {
        return capacityBytes;
    }

    public void setCapacityBytes(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    public long getMaximumVolumeBytes() {
        return maximumVolumeBytes;
    }

    public void setMaximumVolumeBytes(long maximumVolumeBytes) {
        this.maximumVolumeBytes = maximumVolumeBytes;
    }

    public long getMinimumVolumeBytes() {
        return minimumVolumeBytes;
    }

    public void setMinimumVolumeBytes(long minimumVolumeBytes) {
        this.minimumVolumeBytes = minimumVolumeBytes;
    }

    public List<String> getAccessTypes() {
        return accessTypes;
    }

    public void setAccessTypes(List<String> accessTypes) {
        this.accessTypes = accessTypes;
    }

    public List<String> getAccessModes() {
        return accessModes;
    }

    public void setAccessModes(List<String> accessModes) {
        this.accessModes = accessModes;
    }

    public List<String> getFsTypes() {
        return fsTypes;
    }

    public void setFsTypes(List<String> fsTypes) {
        this.fsTypes = fsTypes;
    }

    public List<String> getParameterKeys() {
        return parameterKeys;
    }

    public void setParameterKeys(List<String> parameterKeys) {
        this.parameterKeys = parameterKeys;
    }

    public List<String> getMutableParameterKeys() {
        return mutableParameterKeys;
    }

    public void setMutableParameterKeys(List<String> mutableParameterKeys) {
        this.mutableParameterKeys = mutableParameterKeys;
    }

    public boolean isNodeExpansionRequired() {
        return nodeExpansionRequired;
    }

    public void setNodeExpansionRequired(boolean nodeExpansionRequired) {
        this.nodeExpansionRequired = nodeExpansionRequired;
    }
}
