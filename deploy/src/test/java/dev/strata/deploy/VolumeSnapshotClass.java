package dev.strata.deploy;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.Map;

/**
 * snapshot.storage.k8s.io/v1 VolumeSnapshotClass. fabric8's typed snapshot model stopped being
 * released with the client (its last, 7.5.2, is not resolvable from Maven Central), so the few
 * fields this API has are declared here; an unknown field fails the parse.
 */
@Group("snapshot.storage.k8s.io")
@Version("v1")
@Kind("VolumeSnapshotClass")
@JsonIgnoreProperties(ignoreUnknown = false)
@JsonDeserialize(using = JsonDeserializer.None.class) // HasMetadata's own deserializer would make it generic
public class VolumeSnapshotClass implements HasMetadata {
    private String apiVersion = "snapshot.storage.k8s.io/v1";
    private String kind = "VolumeSnapshotClass";
    private ObjectMeta metadata;
    private String driver;
    private String deletionPolicy;
    private Map<String, String> parameters;

    @Override
    public String getApiVersion() {
        return apiVersion;
    }

    @Override
    public void setApiVersion(String apiVersion) {
        this.apiVersion = apiVersion;
    }

    @Override
    public String getKind() {
        return kind;
    }

    public void setKind(String kind) {
        this.kind = kind;
    }

    @Override
    public ObjectMeta getMetadata() {
        return metadata;
    }

    @Override
    public void setMetadata(ObjectMeta metadata) {
        this.metadata = metadata;
    }

    public String getDriver() {
        return driver;
    }

    public void setDriver(String driver) {
        this.driver = driver;
    }

    public String getDeletionPolicy() {
        return deletionPolicy;
    }

    public void setDeletionPolicy(String deletionPolicy) {
        this.deletionPolicy = deletionPolicy;
    }

    public Map<String, String> getParameters() {
        return parameters;
    }

    public void setParameters(Map<String, String> parameters) {
        this.parameters = parameters;
    }
}
