package dev.strata.controller.cluster;

import dev.strata.common.CsiException;
import dev.strata.common.metrics.Sample;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.cache.Store;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * Lets a CSI call wait until a resource, as the informer sees it, reaches a state: one informer for
 * all callers instead of a watch per call. A waiter registers before it reads the cache, so no
 * update can slip between the read and the wait.
 */
final class Waiters<T extends HasMetadata> implements ResourceEventHandler<T> {
    private record Waiter<T>(Predicate<Optional<T>> done, CompletableFuture<Optional<T>> result) {}

    private final Store<T> store;
    private final Map<String, Set<Waiter<T>>> waiting = new ConcurrentHashMap<>();
    private final String kind;
    private final LongAdder waitsDone = new LongAdder();
    private final LongAdder waitsAborted = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();
    private final AtomicInteger waitingNow = new AtomicInteger();

    /** {@code kind} labels the metrics: volume, snapshot, ... */
    Waiters(Store<T> store, String kind) {
        this.store = store;
        this.kind = kind;
    }

    /**
     * The waits as metrics: calls waiting now for their node, the waits that ended (answered, or
     * ABORTED for the CO to retry) and the time spent waiting.
     */
    List<Sample> samples() {
        Map<String, String> labels = Map.of("resource", kind);
        return List.of(
                Sample.gauge("strata_controller_waiting_calls", "Controller calls waiting now for a node to act on "
                        + "their resource", labels, waitingNow.get()),
                Sample.counter("strata_controller_waits_total", "Controller calls that waited for a node, by outcome "
                        + "(done; aborted: the node did not answer in time, and the CO retries)",
                        Map.of("resource", kind, "outcome", "done"), waitsDone.sum()),
                Sample.counter("strata_controller_waits_total", "", Map.of("resource", kind, "outcome", "aborted"),
                        waitsAborted.sum()),
                Sample.counter("strata_controller_wait_seconds_total", "Time controller calls spent waiting for "
                        + "nodes (divided by the waits: the mean wait)", labels, waitNanos.sum() / 1e9));
    }

    /**
     * Waits until {@code done} holds for the resource named {@code name} (empty = it does not exist)
     * and returns what satisfied it. Gives up before the caller's gRPC deadline, or after
     * {@code longest}, with ABORTED: the CO retries, and the retry finds the same resource.
     */
    Optional<T> await(String name, Predicate<Optional<T>> done, Duration longest, String what) {
        Waiter<T> w = new Waiter<>(done, new CompletableFuture<>());
        waiting.compute(name, (k, set) -> {
            Set<Waiter<T>> s = set == null ? new CopyOnWriteArraySet<>() : set;
            s.add(w);
            return s;
        });
        long start = System.nanoTime();
        waitingNow.incrementAndGet();
        boolean answered = false;
        try {
            check(name, w);
            Optional<T> result = w.result().get(budget(longest), TimeUnit.MILLISECONDS);
            answered = true;
            return result;
        } catch (TimeoutException e) {
            throw new CsiException(Status.Code.ABORTED, what + " is still in progress on its node; retry");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CsiException(Status.Code.ABORTED, what + ": interrupted while waiting; retry");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            waitingNow.decrementAndGet();
            waitNanos.add(System.nanoTime() - start);
            (answered ? waitsDone : waitsAborted).increment();
            waiting.computeIfPresent(name, (k, set) -> {
                set.remove(w);
                return set.isEmpty() ? null : set;
            });
        }
    }

    /** The resource as the informer sees it now. */
    Optional<T> current(String name) {
        return Optional.ofNullable(store.getByKey(name));
    }

    /** A second short of the caller's deadline, so that the answer reaches it in time even on a busy node. */
    private static long budget(Duration longest) {
        long millis = longest.toMillis();
        Deadline deadline = Context.current().getDeadline();
        if (deadline != null) {
            millis = Math.min(millis, deadline.timeRemaining(TimeUnit.MILLISECONDS) - 1000);
        }
        return Math.max(millis, 0);
    }

    private void check(String name, Waiter<T> w) {
        Optional<T> now = current(name);
        if (w.done().test(now)) {
            w.result().complete(now);
        }
    }

    private void changed(String name) {
        Set<Waiter<T>> forName = waiting.get(name);
        if (forName != null) {
            forName.forEach(w -> check(name, w));
        }
    }

    @Override
    public void onAdd(T obj) {
        changed(obj.getMetadata().getName());
    }

    @Override
    public void onUpdate(T oldObj, T newObj) {
        changed(newObj.getMetadata().getName());
    }

    @Override
    public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        changed(obj.getMetadata().getName());
    }
}
