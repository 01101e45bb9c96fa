package dev.strata.common.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks its {@link SampleSource}s for their values at each scrape and hands them to Prometheus. A
 * source that fails is left out of that scrape, and {@code strata_metrics_source_up{source}} says so
 * (0), so that an alert can tell "no data" from "all is well".
 */
public final class SampleCollector implements MultiCollector {
    private static final Logger LOG = LoggerFactory.getLogger(SampleCollector.class);
    private final Map<String, SampleSource> sources = new LinkedHashMap<>();

    /** Adds a source under a fixed name (a label value of {@code strata_metrics_source_up}). */
    public synchronized SampleCollector add(String name, SampleSource source) {
        sources.put(name, source);
        return this;
    }

    @Override
    public MetricSnapshots collect() {
        List<Sample> all = new ArrayList<>();
        Map<String, SampleSource> now;
        synchronized (this) {
            now = Map.copyOf(sources);
        }
        for (Map.Entry<String, SampleSource> e : new java.util.TreeMap<>(now).entrySet()) {
            boolean up;
            try {
                all.addAll(e.getValue().samples());
                up = true;
            } catch (Exception failure) {
                LOG.warn("metrics of {} could not be read: {}", e.getKey(), failure.toString());
                up = false;
            }
            all.add(Sample.gauge("strata_metrics_source_up",
                    "1 when the source's metrics were read at this scrape, 0 when reading them failed",
                    Map.of("source", e.getKey()), up ? 1 : 0));
        }
        return snapshots(all);
    }

    static MetricSnapshots snapshots(List<Sample> samples) {
        Map<String, List<Sample>> byName = new LinkedHashMap<>();
        for (Sample s : samples) {
            byName.computeIfAbsent(s.name(), n -> new ArrayList<>()).add(s);
        }
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        for (List<Sample> family : byName.values()) {
            Sample first = family.get(0);
            out.metricSnapshot(first.type() == Sample.Type.COUNTER ? counter(family) : gauge(family));
        }
        return out.build();
    }

    private static MetricSnapshot gauge(List<Sample> family) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(family.get(0).name()).help(family.get(0).help());
        for (Sample s : family) {
            b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels(s)).value(s.value()).build());
        }
        return b.build();
    }

    private static MetricSnapshot counter(List<Sample> family) {
        String name = family.get(0).name();
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name.substring(0, name.length() - "_total".length()))
                .help(family.get(0).help());
        for (Sample s : family) {
            b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels(s)).value(s.value()).build());
        }
        return b.build();
    }

    private static Labels labels(Sample s) {
        String[] names = s.labels().keySet().toArray(String[]::new);
        String[] values = new String[names.length];
        for (int i = 0; i < names.length; i++) {
            values[i] = s.labels().get(names[i]);
        }
        return Labels.of(names, values);
    }
}
