package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

/** Identifies a node plugin; the node plugin writes it when it starts. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StrataNodeSpec {
    @JsonPropertyDescription("The node's topology segments (topology.strata.csi.dev/node).")
    private Map<String, String> topology;

    public Map<String, String> getTopology() {
        return topology;
    }

    public void setTopology(Map<String, String> topology) {
        this.topology = topology;
    }
}
