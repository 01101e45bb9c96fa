package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import java.util.Map;

/** A snapshot the controller plugin asks of a node: the node of its source volume. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StrataSnapshotSpec {
    @JsonPropertyDescription("The node that holds the source volume.")
    @Required
    private String node;
    @JsonPropertyDescription("The CSI request name (the VolumeSnapshotContent name).")
    @Required
    private String name;
    @JsonPropertyDescription("The CSI ID of the volume to snapshot.")
    @Required
    private String sourceVolume;
    @JsonPropertyDescription("VolumeSnapshotClass parameters.")
    private Map<String, String> parameters;
    @JsonPropertyDescription("The Secret (in the plugins' namespace) with the call's secrets for the backup target: the "
            + "controller's copy of the VolumeSnapshotClass's snapshotter secret. Unset: the node's own "
            + "credentials and key.")
    private String secretName;

    public String getNode() {
        return node;
    }

    public void setNode(String node) {
        this.node = node;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getSourceVolume() {
        return sourceVolume;
    }

    public void setSourceVolume(String sourceVolume) {
        this.sourceVolume = sourceVolume;
    }

    public Map<String, String> getParameters() {
        return parameters;
    }

    public void setParameters(Map<String, String> parameters) {
        this.parameters = parameters;
    }

    public String getSecretName() {
        return secretName;
    }

    public void setSecretName(String secretName) {
        this.secretName = secretName;
    }
}
