package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.List;
import java.util.Map;

/** What the controller plugin asks of a node: one volume, as CreateVolume described it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StrataVolumeSpec {
    @JsonPropertyDescription("The node whose disks hold the volume (its StrataNode's name, the CSI node ID).")
    @Required
    private String node;
    @JsonPropertyDescription("The engine that makes it: dir, shared, hostpath, overlay or thin.")
    @Required
    private String engine;
    @JsonPropertyDescription("The CSI request name (the PV name); the resource's own name is derived from it.")
    @Required
    private String name;
    @JsonPropertyDescription("Smallest acceptable size; raised by ControllerExpandVolume (0 = the node's default).")
    @Min(0)
    private long requiredBytes;
    @JsonPropertyDescription("Largest acceptable size (0 = no limit).")
    @Min(0)
    private long limitBytes;
    @JsonPropertyDescription("Filesystem or Block.")
    private String volumeMode;
    @JsonPropertyDescription("CSI access modes asked for (SINGLE_NODE_WRITER, MULTI_NODE_MULTI_WRITER, ...).")
    private List<String> accessModes;
    @JsonPropertyDescription("The snapshot or volume the new volume starts from; absent for an empty one.")
    private ContentSourceRef contentSource;
    @JsonPropertyDescription("StorageClass parameters (with the fsType under csi.storage.k8s.io/fstype).")
    private Map<String, String> parameters;
    @JsonPropertyDescription("The Secret (in the plugins' namespace) with the secrets a restore from a backup opens its "
            + "target with: the controller's copy of the StorageClass's provisioner secret, or the source "
            + "snapshot's. Unset: the node's own credentials and key.")
    private String secretName;
    @JsonPropertyDescription("VolumeAttributesClass parameters; changing them modifies the volume.")
    private Map<String, String> mutableParameters;

    public String getNode() {
        return node;
    }

    public void setNode(String node) {
        this.node = node;
    }

    public String getEngine() {
        return engine;
    }

    public void setEngine(String engine) {
        this.engine = engine;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public long getRequiredBytes() {
        return requiredBytes;
    }

    public void setRequiredBytes(long requiredBytes) {
        this.requiredBytes = requiredBytes;
    }

    public long getLimitBytes() {
        return limitBytes;
    }

    public void setLimitBytes(long limitBytes) {
        this.limitBytes = limitBytes;
    }

    public String getVolumeMode() {
        return volumeMode;
    }

    public void setVolumeMode(String volumeMode) {
        this.volumeMode = volumeMode;
    }

    public List<String> getAccessModes() {
        return accessModes;
    }

    public void setAccessModes(List<String> accessModes) {
        this.accessModes = accessModes;
    }

    public ContentSourceRef getContentSource() {
        return contentSource;
    }

    public void setContentSource(ContentSourceRef contentSource) {
        this.contentSource = contentSource;
    }

    public Map<String, String> getParameters() {
        return parameters;
    }

    public void setParameters(Map<String, String> parameters) {
        this.parameters = parameters;
    }

    public Map<String, String> getMutableParameters() {
        return mutableParameters;
    }

    public void setMutableParameters(Map<String, String> mutableParameters) {
        this.mutableParameters = mutableParameters;
    }

    public String getSecretName() {
        return secretName;
    }

    public void setSecretName(String secretName) {
        this.secretName = secretName;
    }
}
