package dev.strata.node.engine;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.metrics.Sample;
import dev.strata.node.sys.FileHandle;
import dev.strata.node.sys.PathWalk;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deleting a directory tree takes time proportional to its files; renaming it does not. A discarded
 * tree is renamed into the trash at once (so its name is free and its record can go), then removed by
 * one background thread. Whatever a crash leaves in the trash is removed after the next start.
 *
 * <p>A tree may belong to a tenant who can still reach it (a hostpath directory under a parent
 * volume): the rename goes through the handle of its directory, never a path a link could redirect,
 * and the removal is GNU rm's, which walks with directory descriptors and does not follow links, nor
 * leave the filesystem (a mount left inside is not emptied).
 */
public final class Trash implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Trash.class);
    private static final AtomicLong SEQUENCE = new AtomicLong(System.nanoTime());

    private static final CommandRunner RUNNER = new CommandRunner();
    private final Path dir;
    private final FileHandle handle;
    /** Trees discarded and not yet removed. */
    private final AtomicInteger pending = new AtomicInteger();
    private final ExecutorService reclaimer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "trash-reclaim");
        t.setDaemon(true);
        return t;
    });

    /** {@code dir} must be on the same filesystem as everything discarded into it. */
    public Trash(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.handle = FileHandle.open(this.dir);
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(dir)) {
            for (Path p : leftovers) {
                pending.incrementAndGet();
                reclaimer.execute(() -> reclaim(p));
            }
        }
    }

    /** Moves {@code path} out of the way now and deletes it later; a missing path is a no-op. */
    public void discard(Path path) throws IOException {
        discard(path, tree -> { });
    }

    /** Work on a discarded tree before it is deleted, on the reclaiming thread (e.g. an unmount). */
    public interface Release {
        void release(Path tree) throws IOException;
    }

    /**
     * As {@link #discard(Path)}, with {@code release} run on the tree in the trash before it is
     * deleted: a tree may hold a mount (moved along with the rename) whose unmount is slow.
     */
    public void discard(Path path, Release release) throws IOException {
        FileHandle parent;
        try {
            parent = PathWalk.parentOf(path, false);
        } catch (NoSuchFileException e) {
            return;
        }
        try (parent) {
            discard(parent, path.getFileName().toString(), release);
        }
    }

    /** As {@link #discard(Path, Release)}, for the entry {@code name} of the directory {@code parent}. */
    public void discard(FileHandle parent, String name, Release release) throws IOException {
        String trashed = name + "." + SEQUENCE.incrementAndGet();
        Path target = dir.resolve(trashed);
        try {
            parent.rename(name, handle, trashed);
        } catch (NoSuchFileException e) {
            return;
        }
        pending.incrementAndGet();
        reclaimer.execute(() -> {
            try {
                release.release(target);
            } catch (IOException e) {
                pending.decrementAndGet(); // stays in the trash until the next start retries it
                LOG.warn("could not release {}: {}", target, e.toString());
                return;
            }
            reclaim(target);
        });
    }

    /** Waits until everything discarded so far is gone (for tests and orderly shutdown). */
    public void drain() throws InterruptedException {
        try {
            reclaimer.submit(() -> { }).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    private void reclaim(Path tree) {
        try {
            if (!removeEmpty(tree)) {
                deleteTree(tree);
            }
        } catch (IOException e) {
            LOG.warn("could not reclaim {}: {}", tree, e.toString());
        } finally {
            pending.decrementAndGet();
        }
    }

    /**
     * Most discarded trees are empty directories (a volume nobody wrote to); one unlinkat through
     * the trash's handle removes such a tree without spawning rm, whose fork and exec cost more CPU
     * than a whole lifecycle's other calls. Anything else (ENOTEMPTY, ENOTDIR) is left to rm.
     */
    private boolean removeEmpty(Path tree) {
        try {
            handle.remove(tree.getFileName().toString(), true);
            return true;
        } catch (IOException notEmptyOrNotADirectory) {
            return false;
        }
    }

    /** Trees waiting to be removed (the backlog). */
    public int pendingEntries() {
        return pending.get();
    }

    /**
     * Bytes still held in the trash: the blocks its files take (du, which neither follows links nor
     * leaves the trash's filesystem). Costs a walk of the backlog: for metrics, not for every call.
     */
    public long pendingBytes() throws IOException {
        CommandRunner.Result r = RUNNER.run("du", "-x", "-B1", "-d1", "--", dir.toString());
        if (!r.ok() && r.stdout().isBlank()) {
            throw new IOException(r.failure());
        }
        // One line per tree, then the trash directory's own total (its own block too): the trees count.
        // du also fails when a tree goes while it walks (the reclaimer): the others' lines still stand.
        List<String> lines = r.stdout().lines().toList();
        long bytes = 0;
        for (String line : lines.subList(0, Math.max(0, lines.size() - 1))) {
            bytes += Long.parseLong(line.split("\t", 2)[0]);
        }
        return bytes;
    }

    /** The backlog of an engine's trashes as metrics, labelled with the engine. */
    public static List<Sample> samples(String engine, java.util.Collection<Trash> trashes) throws IOException {
        long entries = 0;
        long bytes = 0;
        for (Trash t : trashes) {
            entries += t.pendingEntries();
            bytes += t.pendingBytes();
        }
        Map<String, String> labels = Map.of("engine", engine);
        return List.of(
                Sample.gauge("strata_trash_entries", "Deleted trees waiting to be removed in the background",
                        labels, entries),
                Sample.gauge("strata_trash_bytes", "Bytes the trash still holds (blocks of deleted trees not yet "
                        + "removed)", labels, bytes));
    }

    /**
     * Deletes a tree (a driver's path) without following symbolic links out of it and without
     * entering another filesystem mounted inside it (that fails, and leaves the mount alone).
     */
    public static void deleteTree(Path tree) throws IOException {
        if (!Files.exists(tree, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        RUNNER.run("rm", "-rf", "--one-file-system", "--", tree.toString()).checkIo();
    }

    @Override
    public void close() throws InterruptedException {
        reclaimer.shutdown();
        reclaimer.awaitTermination(1, TimeUnit.MINUTES);
        handle.close();
    }
}
