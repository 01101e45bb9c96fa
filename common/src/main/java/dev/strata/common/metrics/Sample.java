package dev.strata.common.metrics;

import java.util.Map;

/**
 * One value a component reports at scrape time (an engine's free bytes, a queue's depth), without
 * depending on a metrics library: {@link SampleCollector} turns them into Prometheus metrics. A
 * counter's name ends {@code _total}. Label values come from the node's own configuration and state
 * (engine and pool names, record states), never from a caller.
 */
public record Sample(String name, String help, Type type, Map<String, String> labels, double value) {
    public enum Type { GAUGE, COUNTER }

    public Sample {
        labels = Map.copyOf(labels);
        if (type == Type.COUNTER && !name.endsWith("_total")) {
            throw new IllegalArgumentException("a counter's name ends _total: " + name);
        }
    }

    public static Sample gauge(String name, String help, Map<String, String> labels, double value) {
        return new Sample(name, help, Type.GAUGE, labels, value);
    }

    public static Sample counter(String name, String help, Map<String, String> labels, double value) {
        return new Sample(name, help, Type.COUNTER, labels, value);
    }
}
