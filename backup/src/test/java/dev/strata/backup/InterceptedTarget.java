package dev.strata.backup;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A target that runs a test's hook before each put, then does what the real target does: how a test
 * cuts a backup off part-way (a put that fails, a server stopped for real). It also lists the keys
 * read, for tests of how many requests a read takes.
 */
final class InterceptedTarget implements BackupTarget {
    /** Runs before put number {@code index} (from 0, in the order the puts began) of {@code key}; may throw to fail it. */
    @FunctionalInterface
    interface BeforePut {
        void run(String key, int index) throws IOException;
    }

    private final BackupTarget delegate;
    private final BeforePut hook;
    private final java.util.function.Predicate<String> failAfterLanding;
    private final AtomicInteger puts = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    /** The keys read, in order: the reads of whole objects and of their ranges. */
    final List<String> reads = new java.util.concurrent.CopyOnWriteArrayList<>();

    InterceptedTarget(BackupTarget delegate, BeforePut hook) {
        this(delegate, hook, key -> false);
    }

    private InterceptedTarget(BackupTarget delegate, BeforePut hook, java.util.function.Predicate<String> failAfterLanding) {
        this.delegate = delegate;
        this.hook = hook;
        this.failAfterLanding = failAfterLanding;
    }

    /**
     * Stores every put, then fails those whose key {@code fails} picks, as a file target's put does
     * when the sync after its rename is interrupted: the object is there, the caller sees an error.
     */
    static InterceptedTarget failingAfterLanding(BackupTarget delegate, java.util.function.Predicate<String> fails) {
        return new InterceptedTarget(delegate, (key, index) -> {}, fails);
    }

    /** Fails every put after the first {@code allowedPuts}. */
    static InterceptedTarget failingAfter(BackupTarget delegate, int allowedPuts) {
        return new InterceptedTarget(delegate, (key, index) -> {
            if (index >= allowedPuts) {
                throw new IOException("injected failure writing " + key);
            }
        });
    }

    @Override
    public String url() {
        return delegate.url();
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        hook.run(key, puts.getAndIncrement()); // a backup stores chunks on several threads
        delegate.put(key, data);
        done.incrementAndGet();
        if (failAfterLanding.test(key)) {
            throw new java.io.InterruptedIOException("injected: " + key + " landed, then its put failed");
        }
    }

    /** Waits until {@code count} puts have returned: for a hook that must let those before it land. */
    void awaitDone(int count) throws java.io.InterruptedIOException {
        while (done.get() < count) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException();
            }
        }
    }

    @Override
    public byte[] get(String key) throws IOException {
        reads.add(key);
        return delegate.get(key);
    }

    @Override
    public java.nio.ByteBuffer getRange(String key, long offset, int length, byte[] reuse) throws IOException {
        reads.add(key);
        return delegate.getRange(key, offset, length, reuse);
    }

    @Override
    public boolean exists(String key) throws IOException {
        return delegate.exists(key);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return delegate.list(prefix);
    }

    @Override
    public Instant modified(String key) throws IOException {
        return delegate.modified(key);
    }

    @Override
    public void delete(String key) throws IOException {
        delegate.delete(key);
    }

    /** As the target behind: a backup to S3 through this one packs as it would to S3. */
    @Override
    public boolean packsEveryChunk() {
        return delegate.packsEveryChunk();
    }
}
