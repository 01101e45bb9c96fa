package dev.strata.common.metrics;

import java.util.List;

/** Something that reports {@link Sample}s when Prometheus scrapes. */
@FunctionalInterface
public interface SampleSource {
    List<Sample> samples() throws Exception;
}
