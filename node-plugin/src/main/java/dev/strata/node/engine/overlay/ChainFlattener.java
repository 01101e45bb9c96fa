package dev.strata.node.engine.overlay;

import dev.strata.node.engine.TreeCopy;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flattens snapshots whose chains grew too deep, one at a time on a thread of its own: the chain is
 * mounted read-only, its merged view copied into one new layer, and the snapshot's chain replaced
 * by that layer, so that mounts stay within overlayfs's limits. Volumes already cut from the
 * snapshot keep the old layers until they go.
 */
final class ChainFlattener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChainFlattener.class);

    private final Path snapshots;
    private final Path layers;
    private final Path flattening;
    private final LayerChains chains;
    private final Mounter mounter;
    private final TreeCopy copy;
    private final ExecutorService flattener = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "overlay-flatten");
        t.setDaemon(true);
        return t;
    });

    ChainFlattener(Path snapshots, Path layers, Path flattening, LayerChains chains, Mounter mounter, TreeCopy copy) {
        this.snapshots = snapshots;
        this.layers = layers;
        this.flattening = flattening;
        this.chains = chains;
        this.mounter = mounter;
        this.copy = copy;
    }

    /** At start: unmounts the views a crash left mounted mid-flatten. */
    void recover() throws IOException {
        for (Path mount : MountTable.read().under(flattening)) {
            mounter.unmount(mount);
        }
    }

    void flattenLater(String snapshotId) {
        flattener.execute(() -> {
            try {
                flatten(snapshotId);
            } catch (IOException | RuntimeException e) {
                LOG.warn("flattening snapshot {} failed (tried again at the next start): {}", snapshotId, e.toString());
            }
        });
    }

    /** Replaces a snapshot's chain by one layer holding its merged view; nothing for a chain of one. */
    void flatten(String snapshotId) throws IOException {
        Path chainFile = snapshots.resolve(snapshotId);
        List<String> chain = chains.whileStill(() -> Files.isRegularFile(chainFile) ? LayerChains.read(chainFile)
                : List.of());
        if (chain.size() <= 1) {
            return;
        }
        String layer = "flat-" + snapshotId + "-" + chain.size();
        Path view = Files.createDirectories(flattening.resolve(snapshotId));
        chains.building(layer);
        try {
            mounter.mount("overlay", view, "overlay", LibC.MS_RDONLY, "lowerdir=" + chains.lowerDirs(chain));
            try {
                copy.copyOnce(view, layers, layer);
            } finally {
                mounter.unmount(view);
                Files.deleteIfExists(view);
            }
            chains.whileStill(() -> {
                if (Files.isRegularFile(chainFile) && LayerChains.read(chainFile).equals(chain)) {
                    LayerChains.write(chainFile, List.of(layer));
                }
                return null;
            });
        } finally {
            chains.built(layer);
        }
        chains.collect();
        LOG.info("snapshot {}: {} layers flattened into {}", snapshotId, chain.size(), layer);
    }

    /** Waits for the flattening asked for so far to finish (tests, orderly shutdown). */
    void await() throws Exception {
        flattener.submit(() -> { }).get(1, TimeUnit.HOURS);
    }

    @Override
    public void close() throws InterruptedException {
        flattener.shutdown();
        flattener.awaitTermination(1, TimeUnit.MINUTES);
    }
}
