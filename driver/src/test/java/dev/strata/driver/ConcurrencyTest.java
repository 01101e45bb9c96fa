package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.Volume;
import dev.strata.testkit.CsiCalls;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Per-object locks over the socket: calls on distinct volumes go ahead in parallel, and racing calls on
 * one answer OK or ABORTED, never a second volume. (A held lock making every kind of call ABORTED is
 * NodeStorageLocksTest's, in the node plugin.)
 */
class ConcurrencyTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void parallelCreatesOfDistinctVolumesAllSucceed() throws Exception {
        List<Object> outcomes = inParallel(16, i -> () -> csi.createVolume("pvc-" + i));
        Set<String> ids = new HashSet<>();
        for (Object o : outcomes) {
            assertTrue(o instanceof Volume, "a create failed: " + o);
            ids.add(((Volume) o).getVolumeId());
        }
        assertEquals(16, ids.size());
        assertEquals(ids, Set.copyOf(CsiCalls.names(csi.volumesDir())));
        assertEquals(ids, Set.copyOf(csi.listVolumeIds()));
    }

    @Test
    void parallelCreatesOfOneNameMakeOneVolume() throws Exception {
        List<Object> outcomes = inParallel(8, i -> () -> csi.createVolume("pvc-same"));
        Set<String> ids = new HashSet<>();
        for (Object o : outcomes) {
            if (o instanceof Volume v) {
                ids.add(v.getVolumeId());
            } else {
                assertTrue(o instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.ABORTED,
                        "neither OK nor ABORTED: " + o);
            }
        }
        assertEquals(1, ids.size(), "volume IDs returned: " + ids);
        assertEquals(List.copyOf(ids), CsiCalls.names(csi.volumesDir()));
        assertEquals(List.copyOf(ids), csi.listVolumeIds());
    }

    /** Runs n calls at once; each outcome is the call's result or the StatusRuntimeException it threw. */
    private static List<Object> inParallel(int n, IntFunction<Callable<Object>> call) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Object>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Callable<Object> c = call.apply(i);
                futures.add(pool.submit(() -> {
                    start.await();
                    try {
                        return c.call();
                    } catch (StatusRuntimeException e) {
                        return e;
                    }
                }));
            }
            start.countDown();
            List<Object> outcomes = new ArrayList<>();
            for (Future<Object> f : futures) {
                try {
                    outcomes.add(f.get());
                } catch (ExecutionException e) {
                    throw new AssertionError("a call failed unexpectedly", e.getCause());
                }
            }
            return outcomes;
        } finally {
            pool.shutdownNow();
        }
    }
}
