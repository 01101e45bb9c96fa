package dev.strata.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyRecorderTest {
    private static final long MS = 1_000_000;

    @Test
    void nearestRankPercentiles() {
        long[] sorted = new long[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1;
        }
        assertEquals(50, LatencyRecorder.percentile(sorted, 50));
        assertEquals(99, LatencyRecorder.percentile(sorted, 99));
        assertEquals(100, LatencyRecorder.percentile(sorted, 100));
        assertEquals(1, LatencyRecorder.percentile(sorted, 0));
        assertEquals(7, LatencyRecorder.percentile(new long[] {7}, 99));
        assertEquals(0, LatencyRecorder.percentile(new long[0], 50));
        assertEquals(2, LatencyRecorder.percentile(new long[] {1, 2, 3}, 50));
    }

    @Test
    void statsPerMethodAndTotal() {
        LatencyRecorder r = new LatencyRecorder();
        for (int i = 1; i <= 10; i++) {
            r.record("CreateVolume", i * MS, true);
        }
        for (int i = 0; i < 10; i++) {
            r.record("DeleteVolume", 100 * MS, i != 3);
        }
        assertEquals(List.of("CreateVolume", "DeleteVolume"), r.methods());
        LatencyRecorder.Stats create = r.stats("CreateVolume");
        assertEquals(new LatencyRecorder.Stats(10, 0, 5.0, 10.0), create);
        LatencyRecorder.Stats total = r.total();
        assertEquals(20, total.calls());
        assertEquals(1, total.errors());
        assertEquals(10.0, total.p50Ms());
        assertEquals(100.0, total.p99Ms());
    }

    @Test
    void timesFailedCallsAndRethrows() {
        LatencyRecorder r = new LatencyRecorder();
        assertEquals("ok", r.time("Probe", () -> "ok"));
        assertThrows(StatusRuntimeException.class, () -> r.time("Probe", () -> {
            throw Status.INTERNAL.asRuntimeException();
        }));
        assertEquals(2, r.stats("Probe").calls());
        assertEquals(1, r.stats("Probe").errors());
    }
}
