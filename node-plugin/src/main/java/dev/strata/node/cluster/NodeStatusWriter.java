package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.Conversions;
import dev.strata.api.v1alpha1.EngineCapacity;
import dev.strata.api.v1alpha1.PoolStatus;
import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataNodeSpec;
import dev.strata.api.v1alpha1.StrataNodeStatus;
import dev.strata.common.BuildInfo;
import dev.strata.common.model.PoolUsage;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.storage.Engines;
import dev.strata.node.storage.LocalStorage;
import dev.strata.node.storage.StorageConfig;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's StrataNode current: each engine's capabilities and free space, the pools, the
 * node's health and the plugin's version. The controller plugin places volumes and answers
 * GetCapacity from it. A pool's change of level is posted as an event on it ({@link PoolEvents}).
 */
final class NodeStatusWriter {
    private static final Logger LOG = LoggerFactory.getLogger(NodeStatusWriter.class);

    private final KubernetesClient client;
    private final LocalStorage storage;
    private final Engines engines;
    private final StorageConfig config;
    private final PoolEvents poolEvents;

    NodeStatusWriter(KubernetesClient client, LocalStorage storage, Engines engines, StorageConfig config,
            PoolEvents poolEvents) {
        this.client = client;
        this.storage = storage;
        this.engines = engines;
        this.config = config;
        this.poolEvents = poolEvents;
    }

    /** Creates the StrataNode when it is missing, then writes its status. */
    void report() {
        String node = config.nodeId();
        if (client.resources(StrataNode.class).withName(node).get() == null) {
            StrataNode fresh = new StrataNode();
            fresh.setMetadata(new ObjectMetaBuilder().withName(node).build());
            StrataNodeSpec spec = new StrataNodeSpec();
            spec.setTopology(Map.of(BuildInfo.TOPOLOGY_KEY, node));
            fresh.setSpec(spec);
            try {
                client.resource(fresh).create();
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
            }
        }
        StrataNodeStatus status = status();
        ResourceWrites.status(client, StrataNode.class, node, r -> {
            r.setStatus(status);
            return r;
        }).ifPresent(written -> poolEvents.observe(written, status.getPools() == null ? List.of() : status.getPools()));
    }

    private StrataNodeStatus status() {
        StrataNodeStatus st = new StrataNodeStatus();
        st.setPluginVersion(BuildInfo.VERSION);
        st.setDefaultEngine(config.defaultEngine());
        st.setMaxVolumes(config.maxVolumesPerNode());
        List<VolumeRecord> volumes = storage.listVolumes();
        List<EngineCapacity> capacities = new ArrayList<>();
        List<PoolStatus> pools = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (VolumeEngine engine : engines.all()) {
            String name = engine.traits().name();
            long allocated = volumes.stream().filter(v -> v.engine().equals(name))
                    .mapToLong(VolumeRecord::capacityBytes).sum();
            try {
                capacities.add(Conversions.engineCapacity(engine.traits(), engine.capacity(), allocated));
                for (PoolUsage p : engine.pools()) {
                    pools.add(pool(name, p));
                    if (p.problem() != null) {
                        problems.add(p.name() + ": " + p.problem());
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("engine {}: cannot read its capacity", name, e);
                problems.add(name + ": " + e.getMessage());
            }
        }
        capacities.sort(Comparator.comparing(EngineCapacity::getName));
        st.setEngines(capacities);
        st.setPools(pools.isEmpty() ? null : pools);
        st.setHealthy(problems.isEmpty());
        // An engine this node cannot run is not a fault of the node: it stays healthy, and says why.
        Map<String, String> unavailable = engines.unavailable();
        st.setUnavailableEngines(unavailable.isEmpty() ? null : new java.util.TreeMap<>(unavailable));
        List<String> notes = new ArrayList<>(problems);
        unavailable.forEach((engine, why) -> notes.add("engine " + engine + " unavailable: " + why));
        st.setMessage(notes.isEmpty() ? "ok" : String.join("; ", notes));
        st.setHeartbeatTime(Instant.now().toString());
        return st;
    }

    private static PoolStatus pool(String engine, PoolUsage p) {
        PoolStatus s = new PoolStatus();
        s.setName(p.name());
        s.setEngine(engine);
        s.setDataBytes(p.dataBytes());
        s.setUsedDataBytes(p.usedDataBytes());
        s.setMetadataBytes(p.metadataBytes());
        s.setUsedMetadataBytes(p.usedMetadataBytes());
        s.setHealth(p.problem() == null ? "ok" : p.problem());
        return s;
    }
}
