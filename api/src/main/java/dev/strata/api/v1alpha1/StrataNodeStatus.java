package dev.strata.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Map;

/** What a node plugin reports about its node's storage, kept current while it runs. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StrataNodeStatus {
    @JsonPropertyDescription("The node plugin's version.")
    private String pluginVersion;
    @JsonPropertyDescription("False when an engine or pool cannot take new volumes.")
    private boolean healthy;
    @JsonPropertyDescription("Why the node is unhealthy, or ok.")
    private String message;
    @JsonPropertyDescription("The engine of volumes whose parameters name none.")
    private String defaultEngine;
    @JsonPropertyDescription("Volumes the node publishes at once at most.")
    private long maxVolumes;
    @JsonPropertyDescription("Each engine the node runs, its capabilities and its free space.")
    private List<EngineCapacity> engines;
    @JsonPropertyDescription("Each storage pool (the thin pool), its size and use.")
    private List<PoolStatus> pools;
    @JsonPropertyDescription("Engines the node plugin is configured for but cannot run on this node, each with "
            + "the reason (the thin engine on a kernel without device-mapper); their capacity here is 0.")
    private Map<String, String> unavailableEngines;
    @JsonPropertyDescription("When the node plugin last wrote this status (RFC 3339).")
    private String heartbeatTime;

    public String getPluginVersion() {
        return pluginVersion;
    }

    public void setPluginVersion(String pluginVersion) {
        this.pluginVersion = pluginVersion;
    }

    public boolean isHealthy() {
        return healthy;
    }

    public void setHealthy(boolean healthy) {
        this.healthy = healthy;
    }

    public String getMessage() {
        return message;
    }

    public void setMessage(String message) {
        this.message = message;
    }

    public String getDefaultEngine() {
        return defaultEngine;
    }

    public void setDefaultEngine(String defaultEngine) {
        this.defaultEngine = defaultEngine;
    }

    public long getMaxVolumes() {
        return maxVolumes;
    }

    public void setMaxVolumes(long maxVolumes) {
        this.maxVolumes = maxVolumes;
    }

    public List<EngineCapacity> getEngines() {
        return engines;
    }

    public void setEngines(List<EngineCapacity> engines) {
        this.engines = engines;
    }

    public List<PoolStatus> getPools() {
        return pools;
    }

    public void setPools(List<PoolStatus> pools) {
        this.pools = pools;
    }

    public String getHeartbeatTime() {
        return heartbeatTime;
    }

    public void setHeartbeatTime(String heartbeatTime) {
        this.heartbeatTime = heartbeatTime;
    }

    public Map<String, String> getUnavailableEngines() {
        return unavailableEngines;
    }

    public void setUnavailableEngines(Map<String, String> unavailableEngines) {
        this.unavailableEngines = unavailableEngines;
    }
}
