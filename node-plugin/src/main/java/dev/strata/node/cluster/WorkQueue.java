package dev.strata.node.cluster;

import dev.strata.common.metrics.Sample;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles resources by name, as controller-runtime's work queue does: a name queued many times
 * runs once, never twice at the same time, and again if it changed while it ran. A handler that
 * returns false (or throws) is retried with exponential back-off, from one second up to a minute.
 */
final class WorkQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkQueue.class);
    private static final long FIRST_RETRY_MS = 1000;
    private static final long LAST_RETRY_MS = 60_000;

    private final Predicate<String> handler;
    private final ExecutorService workers;
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "strata-requeue"));
    private final Set<String> queued = new HashSet<>();
    private final Set<String> running = new HashSet<>();
    private final Set<String> dirty = new HashSet<>();
    private final Map<String, Long> backoff = new HashMap<>();
    private final String name;
    private long handled;
    private long retried;
    private long failed;

    WorkQueue(String name, int threads, Predicate<String> handler) {
        this.name = name;
        this.handler = handler;
        this.workers = Executors.newFixedThreadPool(threads, r -> daemon(r, "strata-" + name));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    synchronized void add(String key) {
        if (running.contains(key)) {
            dirty.add(key);
        } else if (queued.add(key) && !workers.isShutdown()) {
            workers.execute(() -> run(key));
        }
    }

    private void run(String key) {
        synchronized (this) {
            queued.remove(key);
            running.add(key);
        }
        boolean done;
        boolean threw = false;
        try {
            done = handler.test(key);
        } catch (RuntimeException e) {
            LOG.warn("reconciling {} failed; will retry", key, e);
            done = false;
            threw = true;
        }
        synchronized (this) {
            running.remove(key);
            handled++;
            retried += done ? 0 : 1;
            failed += threw ? 1 : 0;
            if (done) {
                backoff.remove(key);
            } else {
                long delay = backoff.merge(key, FIRST_RETRY_MS, (old, first) -> Math.min(old * 2, LAST_RETRY_MS));
                if (!retries.isShutdown()) {
                    retries.schedule(() -> add(key), delay, TimeUnit.MILLISECONDS);
                }
            }
            if (dirty.remove(key)) {
                add(key);
            }
        }
    }

    /**
     * The queue as metrics: names waiting (queued, or waiting out a back-off), being reconciled, and
     * the reconciles done, retried (the handler said not yet, or threw) and failed (it threw).
     */
    synchronized List<Sample> samples() {
        Map<String, String> labels = Map.of("queue", name);
        Set<String> waiting = new HashSet<>(queued);
        waiting.addAll(backoff.keySet());
        waiting.removeAll(running);
        return List.of(
                Sample.gauge("strata_reconcile_queue_depth", "Resources waiting to be reconciled: queued, or "
                        + "waiting out a retry's back-off", labels, waiting.size()),
                Sample.gauge("strata_reconcile_running", "Resources being reconciled now", labels, running.size()),
                Sample.counter("strata_reconcile_total", "Reconciles done", labels, handled),
                Sample.counter("strata_reconcile_retries_total", "Reconciles to be retried (not finished, or failed)",
                        labels, retried),
                Sample.counter("strata_reconcile_errors_total", "Reconciles that failed with an error", labels,
                        failed));
    }

    /** Stops taking work and waits up to {@code grace} for what runs; unfinished work is redone on restart. */
    @Override
    public void close() throws InterruptedException {
        close(Duration.ofSeconds(30));
    }

    void close(Duration grace) throws InterruptedException {
        retries.shutdownNow();
        workers.shutdown();
        workers.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    }
}
