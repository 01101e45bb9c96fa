package dev.strata.node.metrics;

import dev.strata.common.metrics.Sample;
import dev.strata.common.metrics.SampleSource;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.PoolUsage;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.storage.Engines;
import dev.strata.node.storage.LocalStorage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The node's storage as metrics, read at each scrape: per engine its capacity, what it may still
 * give, what its volumes were promised, its volumes and snapshots by record state and its abnormal
 * volumes; per pool its data and metadata use and its state; and each engine's own values (trash,
 * layers, the thin pool's events). Volume usage is kubelet's ({@code kubelet_volume_stats_*}, from
 * NodeGetVolumeStats), not repeated here.
 */
public final class StorageSamples implements SampleSource {
    private final LocalStorage storage;
    private final Engines engines;

    public StorageSamples(LocalStorage storage, Engines engines) {
        this.storage = storage;
        this.engines = engines;
    }

    @Override
    public List<Sample> samples() throws Exception {
        List<Sample> out = new ArrayList<>();
        List<VolumeRecord> volumes = storage.listAllVolumes();
        List<SnapshotRecord> snapshots = storage.listAllSnapshots();
        for (VolumeEngine engine : engines.all()) {
            String name = engine.traits().name();
            Map<String, String> labels = Map.of("engine", name);
            Capacity capacity = engine.capacity();
            out.add(Sample.gauge("strata_engine_capacity_bytes", "The largest volume the engine could hold: its "
                    + "filesystem's size, or the thin pool's size times its over-commit ratio", labels,
                    capacity.maximumVolumeBytes()));
            out.add(Sample.gauge("strata_engine_available_bytes", "What a new volume of the engine can get now "
                    + "(what GetCapacity reports)", labels, capacity.availableBytes()));
            out.add(Sample.gauge("strata_engine_provisioned_bytes", "Sizes of the engine's volumes, added up",
                    labels, volumes.stream().filter(v -> v.engine().equals(name))
                            .mapToLong(VolumeRecord::capacityBytes).sum()));
            byState(out, "strata_volumes", "Volumes of the engine by record state (CREATING and DELETING: a change "
                    + "in progress, or one a crash interrupted)", name,
                    volumes.stream().filter(v -> v.engine().equals(name)).map(VolumeRecord::state).toList());
            byState(out, "strata_snapshots", "Snapshots of the engine by record state", name,
                    snapshots.stream().filter(s -> s.engine().equals(name)).map(SnapshotRecord::state).toList());
            long abnormal = volumes.stream()
                    .filter(v -> v.engine().equals(name) && v.state() == RecordState.READY)
                    .filter(v -> abnormal(v.id())).count();
            out.add(Sample.gauge("strata_volumes_abnormal", "Volumes whose condition is abnormal (what "
                    + "ListVolumes and NodeGetVolumeStats report to the CO)", labels, abnormal));
            for (PoolUsage pool : engine.pools()) {
                pool(out, name, pool);
            }
            out.addAll(engine.samples());
        }
        return out;
    }

    private boolean abnormal(String volumeId) {
        try {
            return storage.health(volumeId).abnormal();
        } catch (RuntimeException gone) {
            return false; // deleted since it was listed
        }
    }

    private static void byState(List<Sample> out, String metric, String help, String engine,
            List<RecordState> states) {
        Map<RecordState, Long> counts = new TreeMap<>();
        for (RecordState s : RecordState.values()) {
            counts.put(s, 0L);
        }
        states.forEach(s -> counts.merge(s, 1L, Long::sum));
        counts.forEach((state, n) -> out.add(Sample.gauge(metric, help,
                Map.of("engine", engine, "state", state.name()), n)));
    }

    private static void pool(List<Sample> out, String engine, PoolUsage pool) {
        Map<String, String> labels = new HashMap<>(Map.of("engine", engine, "pool", pool.name()));
        out.add(Sample.gauge("strata_pool_data_bytes", "The pool's data space", labels, pool.dataBytes()));
        out.add(Sample.gauge("strata_pool_data_used_bytes", "The pool's data space in use", labels,
                pool.usedDataBytes()));
        out.add(Sample.gauge("strata_pool_metadata_bytes", "The pool's metadata space", labels,
                pool.metadataBytes()));
        out.add(Sample.gauge("strata_pool_metadata_used_bytes", "The pool's metadata space in use", labels,
                pool.usedMetadataBytes()));
        out.add(Sample.gauge("strata_pool_healthy", "1 when the pool takes writes and needs nothing; 0 when it is "
                + "full, read-only, failed or needs a check (the volume condition says which)", labels,
                pool.problem() == null ? 1 : 0));
    }
}
