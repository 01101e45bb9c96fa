package dev.strata.backup;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The few threads one backup or one restore works on besides its own, and the one way their
 * results come back: the task's own exception, unwrapped. Closing drops the tasks not yet begun and
 * waits for those running to finish (a put, a read: short), even on an interrupted thread: whoever
 * holds the target's lock next (a prune) must not meet a put of ours still landing, and a put is
 * never cut off half way, so what a failed backup stored is exactly what it began.
 */
final class WorkerPool implements AutoCloseable {
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final ThreadPoolExecutor pool;

    WorkerPool(String name, int threads) {
        int n = POOLS.incrementAndGet();
        AtomicInteger count = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name + "-" + n + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    <T> Future<T> submit(Callable<T> task) {
        return pool.submit(task);
    }

    /** The task's result, or its IOException (or RuntimeException, or Error) as it threw it. */
    static <T> T await(Future<T> task) throws IOException {
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a worker");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) cause;
        }
    }

    @Override
    public void close() throws InterruptedIOException {
        pool.getQueue().clear();
        pool.shutdown();
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                try {
                    if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
                        return;
                    }
                    throw new InterruptedIOException("a worker did not finish within a minute");
                } catch (InterruptedException e) {
                    interrupted = true; // keep waiting: what runs is short and must not be cut off
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
