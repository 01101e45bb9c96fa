package dev.strata.common.metrics;

import dev.strata.common.BuildInfo;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The registry of one Strata server (standalone, controller or node plugin): its own, not the
 * library's global one, so that several servers in one JVM (the cluster tests) keep theirs apart.
 * It starts with {@code strata_build_info} and the collector of scrape-time {@link Sample}s.
 */
public final class StrataMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final SampleCollector samples = new SampleCollector();

    public StrataMetrics(String component) {
        Info.builder().name("strata_build_info")
                .help("The running Strata: driver name, version and which server this is (standalone, controller, node)")
                .labelNames("driver", "version", "component")
                .register(registry)
                .setLabelValues(BuildInfo.DRIVER_NAME, BuildInfo.VERSION, component);
        registry.register(samples);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Adds scrape-time values under a source name. */
    public StrataMetrics add(String source, SampleSource values) {
        samples.add(source, values);
        return this;
    }
}
