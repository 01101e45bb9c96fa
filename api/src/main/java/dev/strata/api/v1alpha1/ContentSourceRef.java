package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** A reference to the content a new volume starts from. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ContentSourceRef {
    @JsonPropertyDescription("Snapshot or Volume.")
    @Required
    private String kind;
    @JsonPropertyDescription("The snapshot's or volume's CSI ID (the name of its StrataSnapshot or StrataVolume).")
    @Required
    private String id;
    @JsonPropertyDescription("Set by the controller when the source is a snapshot on another node: the URL of that "
            + "snapshot's stored backup (TARGET#NAME), which this volume's node restores instead of the local "
            + "snapshot it does not have.")
    private String backupUrl;

    public String getKind() {
        return kind;
    }

    public void setKind(String kind) {
        this.kind = kind;
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public String getBackupUrl() {
        return backupUrl;
    }

    public void setBackupUrl(String backupUrl) {
        this.backupUrl = backupUrl;
    }
}
