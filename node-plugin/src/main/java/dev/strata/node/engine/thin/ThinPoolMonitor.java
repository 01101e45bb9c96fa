package dev.strata.node.engine.thin;

import dev.strata.common.metrics.Sample;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.PoolUsage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the thin pool by polling its status (no dmeventd): counts the times free space falls below
 * the low-water mark, and grows a pool on files, online, before it fills: when free data space is
 * under a fifth of the pool, or under the low-water mark, or would be used up within
 * {@value #GROW_WITHIN_SECONDS} s and two poll intervals at the rate the pool filled lately (the
 * next poll and a growth's few commands take that long, and a fast writer must not fill the rest
 * meanwhile), the data file grows by half (at least ten low-water marks), up to the pool's maximum.
 * A pool that cannot grow (on devices, or at its maximum) refuses new volumes once under the mark
 * ({@link #refusesNewVolumes}), and the alerts say so before.
 */
final class ThinPoolMonitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ThinPoolMonitor.class);
    /** Grow when less than this fraction of the pool is free. */
    static final double GROW_BELOW_FREE = 0.20;
    /** Grow when the pool would fill within this many seconds, and two poll intervals, at its recent rate. */
    static final double GROW_WITHIN_SECONDS = 10;

    private final ThinPool pool;
    private final ThinPoolConfig config;
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "thin-pool-monitor");
        t.setDaemon(true);
        return t;
    });
    private final FillRate fillRate = new FillRate(TimeUnit.SECONDS.toNanos(2));
    private boolean belowLowWater;
    private long lowWaterEvents;
    private long growths;
    private long growthFailures;

    ThinPoolMonitor(ThinPool pool) {
        this.pool = pool;
        this.config = pool.config();
    }

    void start() {
        poller.scheduleWithFixedDelay(this::pollQuietly, config.pollMillis(), config.pollMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void pollQuietly() {
        try {
            poll();
        } catch (IOException | RuntimeException e) {
            LOG.warn("thin pool status: {}", e.toString());
        }
    }

    /** One look at the pool: counts a crossing of the low-water mark, and grows the pool when it should. */
    synchronized void poll() throws IOException {
        DmPoolStatus status = pool.status();
        if (status.failed()) {
            return;
        }
        long free = status.totalDataBlocks() - status.usedDataBlocks();
        fillRate.observe(status.usedDataBlocks(), System.nanoTime());
        boolean below = free < config.lowWaterChunks();
        if (below && !belowLowWater) {
            lowWaterEvents++;
            LOG.warn("thin pool {}: {} of {} chunks free, below the low-water mark of {}", ThinPool.NAME, free,
                    status.totalDataBlocks(), config.lowWaterChunks());
        }
        belowLowWater = below;
        if (config.grows() && (below || free < status.totalDataBlocks() * GROW_BELOW_FREE
                || fillRate.fillsWithin(free, GROW_WITHIN_SECONDS + 2 * config.pollMillis() / 1000.0))) {
            grow(status);
        }
    }

    private void grow(DmPoolStatus status) throws IOException {
        long chunk = config.chunkBytes();
        long now = pool.dataFileBytes();
        if (now >= config.maxDataBytes()) {
            return;
        }
        long step = Math.max(now / 2, 10 * config.lowWaterChunks() * chunk);
        long target = Math.min(config.maxDataBytes(), now + step) / chunk * chunk;
        if (target <= now) {
            return;
        }
        try {
            pool.growData(target);
        } catch (IOException | RuntimeException e) {
            growthFailures++;
            throw e;
        }
        growths++;
        LOG.info("thin pool {}: {} of {} chunks were used; grew its data file from {} to {} bytes (at most {})",
                ThinPool.NAME, status.usedDataBlocks(), status.totalDataBlocks(), now, target, config.maxDataBytes());
    }

    /** Under the low-water mark with no room to grow: new volumes are refused before the pool is full. */
    synchronized boolean refusesNewVolumes(DmPoolStatus status) throws IOException {
        long free = status.totalDataBlocks() - status.usedDataBlocks();
        return free < config.lowWaterChunks() && !(config.grows() && pool.dataFileBytes() < config.maxDataBytes());
    }

    /**
     * What new volumes may still take: the data device's size times the over-commit ratio, less
     * {@code promisedBytes} (the sizes of the volumes there are), and never more than the free data
     * blocks times the ratio; nothing while the pool refuses new volumes.
     */
    synchronized Capacity capacity(long promisedBytes) throws IOException {
        DmPoolStatus status = pool.status();
        long chunk = config.chunkBytes();
        double ratio = config.overcommit();
        long byRatio = (long) (status.totalDataBlocks() * chunk * ratio) - promisedBytes;
        long byFree = (long) ((status.totalDataBlocks() - status.usedDataBlocks()) * chunk * ratio);
        long available = status.writable() && !refusesNewVolumes(status) ? Math.max(0, Math.min(byRatio, byFree)) : 0;
        // The largest volume the pool could ever hold is its size times the ratio: a request above
        // that is out of range; one that only exceeds what is free now is a lack of capacity
        // (RESOURCE_EXHAUSTED from create), which the CO may retry elsewhere or later.
        return new Capacity(available, (long) (status.totalDataBlocks() * chunk * ratio), 1L << 20);
    }

    /** The pool's data and metadata, their sizes and what is used. */
    PoolUsage usage() throws IOException {
        DmPoolStatus status = pool.status();
        long chunk = config.chunkBytes();
        // Thin-pool metadata blocks are 4 KiB whatever the data chunk size.
        return new PoolUsage(ThinPool.NAME, status.totalDataBlocks() * chunk, status.usedDataBlocks() * chunk,
                status.totalMetadataBlocks() * 4096, status.usedMetadataBlocks() * 4096, status.problem());
    }

    synchronized List<Sample> samples(String engine, DmPoolStatus status) throws IOException {
        Map<String, String> labels = Map.of("engine", engine, "pool", ThinPool.NAME);
        long limit = config.grows() ? config.maxDataBytes() : status.totalDataBlocks() * config.chunkBytes();
        List<Sample> out = new ArrayList<>();
        out.add(Sample.gauge("strata_pool_overcommit_ratio", "How many times its data size the pool's volumes may "
                + "add up to", labels, config.overcommit()));
        out.add(Sample.gauge("strata_pool_low_water_bytes", "Free data space below which the pool raises its "
                + "low-water event", labels, config.lowWaterChunks() * config.chunkBytes()));
        out.add(Sample.counter("strata_pool_low_water_events_total", "Times the pool's free data space fell below "
                + "the low-water mark (seen by polling)", labels, lowWaterEvents));
        out.add(Sample.gauge("strata_pool_data_limit_bytes", "The size the pool's data may grow to (its size, "
                + "for a pool that does not grow)", labels, limit));
        out.add(Sample.counter("strata_pool_growths_total", "Times the pool's data file grew online", labels,
                growths));
        out.add(Sample.counter("strata_pool_growth_failures_total", "Growths that failed (the log says why)", labels,
                growthFailures));
        out.add(Sample.gauge("strata_pool_needs_check", "1 when the pool's metadata needs a check (thin_check)",
                labels, status.needsCheck() ? 1 : 0));
        out.add(Sample.gauge("strata_pool_read_only", "1 when the pool is read-only or failed (out of data space "
                + "is strata_pool_healthy 0 with the data full)", labels, status.writable()
                || status.mode().equals("out_of_data_space") ? 0 : 1));
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        poller.shutdownNow();
        poller.awaitTermination(30, TimeUnit.SECONDS);
    }
}
