package dev.strata.cli;

import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The latency of every CSI call a benchmark makes, by RPC method, with percentiles by nearest rank.
 * Failed calls are recorded too (they took time and count as errors). Thread-safe.
 */
final class LatencyRecorder {
    record Stats(int calls, int errors, double p50Ms, double p99Ms) {}

    private record Call(long nanos, boolean ok) {}

    /** Insertion order, so the per-method report follows the lifecycle. */
    private final Map<String, List<Call>> calls = new LinkedHashMap<>();

    /** Times one call; its result or exception passes through unchanged. */
    <T> T time(String method, Supplier<T> call) {
        long start = System.nanoTime();
        try {
            T result = call.get();
            record(method, System.nanoTime() - start, true);
            return result;
        } catch (StatusRuntimeException e) {
            record(method, System.nanoTime() - start, false);
            throw e;
        }
    }

    synchronized void record(String method, long nanos, boolean ok) {
        calls.computeIfAbsent(method, m -> new ArrayList<>()).add(new Call(nanos, ok));
    }

    synchronized List<String> methods() {
        return List.copyOf(calls.keySet());
    }

    synchronized Stats stats(String method) {
        return stats(calls.getOrDefault(method, List.of()));
    }

    /** Over every call of every method. */
    synchronized Stats total() {
        List<Call> all = new ArrayList<>();
        calls.values().forEach(all::addAll);
        return stats(all);
    }

    private static Stats stats(List<Call> list) {
        long[] nanos = list.stream().mapToLong(Call::nanos).sorted().toArray();
        int errors = (int) list.stream().filter(c -> !c.ok()).count();
        return new Stats(nanos.length, errors, percentile(nanos, 50) / 1e6, percentile(nanos, 99) / 1e6);
    }

    /** Nearest-rank percentile of sorted values: the smallest value with at least p% at or below it; 0 if none. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }
}
