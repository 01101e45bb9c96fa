package dev.strata.node.engine.thin;

import dev.strata.common.Interrupts;
import dev.strata.common.exec.CommandRunner;
import dev.strata.node.sys.LoopDevices;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The node's dm-thin pool: built on first start (a zeroed metadata device makes a new pool),
 * adopted afterwards (thin_check first, while it is not active), and asked for its status and to
 * create and delete thin devices by messages.
 */
final class ThinPool {
    static final String NAME = "strata-pool";

    private final ThinPoolConfig config;
    private final Dmsetup dm;
    private final CommandRunner runner;

    ThinPool(ThinPoolConfig config, Dmsetup dm, CommandRunner runner) {
        this.config = config;
        this.dm = dm;
        this.runner = runner;
    }

    String device() {
        return "/dev/mapper/" + NAME;
    }

    ThinPoolConfig config() {
        return config;
    }

    /**
     * Activates the pool unless it is active; checks existing metadata before it does. When it cannot
     * (damaged metadata, a kernel that refuses the table), the loop devices of a pool on files are
     * detached again: nothing uses them, and each failed start would otherwise leave two behind,
     * bound to files that an uninstall later deletes.
     */
    void activate() throws IOException {
        if (dm.exists(NAME)) {
            return;
        }
        runner.run("modprobe", "dm-thin-pool"); // built in, or loaded already, on most kernels: best effort
        try {
            String metadata = attach(config.metadata(), config.metadataBytes());
            String data = attach(config.data(), config.dataBytes());
            if (!zeroed(metadata)) {
                CommandRunner.Result check = runner.run("thin_check", "-q", metadata);
                if (!check.ok()) {
                    throw new IOException("thin_check found the pool's metadata " + config.metadata() + " damaged; "
                            + "repair it with thin_repair before Strata uses it: " + check.stderr().strip());
                }
            }
            long sectors = sizeOf(data) / 512;
            // Features: fail writes at once when the pool is full, rather than queue them (and hang).
            String features = config.discardPassdown() ? "1 error_if_no_space"
                    : "2 error_if_no_space no_discard_passdown";
            dm.create(NAME, "0 " + sectors + " thin-pool " + metadata + " " + data + " " + config.chunkSectors() + " "
                    + config.lowWaterChunks() + " " + features);
        } catch (IOException | RuntimeException e) {
            detach(config.metadata(), e);
            detach(config.data(), e);
            throw e;
        }
    }

    /** Detaches the loop devices bound to a pool file; a failure is added to {@code failure}. */
    private void detach(Path path, Exception failure) {
        if (path.startsWith("/dev/")) {
            return;
        }
        try {
            for (String loop : LoopDevices.boundTo(runner, path)) {
                runner.run("losetup", "-d", loop).checkIo();
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** The metadata device (its loop device when it is a file). */
    String metadataDevice() throws IOException {
        return attach(config.metadata(), config.metadataBytes());
    }

    /** What a reader of the metadata does while the pool keeps running. */
    interface MetadataReader<T> {
        T read(String metadataDevice) throws IOException;
    }

    /**
     * Runs {@code reader} on a snapshot of the pool's metadata (reserve_metadata_snap): a live pool's
     * metadata changes under a reader, its snapshot does not. One at a time: dm-thin holds one.
     */
    synchronized <T> T withMetadataSnapshot(MetadataReader<T> reader) throws IOException {
        message("reserve_metadata_snap");
        try {
            return reader.read(metadataDevice());
        } finally {
            releaseMetadataSnapshot();
        }
    }

    /**
     * Releases the metadata snapshot even on an interrupted thread (an upload a DeleteSnapshot
     * stopped mid-read): the command runner kills a command whose wait is interrupted, so the release
     * never ran, and every later reserve failed with EBUSY until the driver restarted (csi-sanity on
     * thin, in CI). The thread's interrupt is kept for its caller.
     */
    private void releaseMetadataSnapshot() throws IOException {
        Interrupts.runCleared(() -> message("release_metadata_snap"));
    }

    /**
     * Releases a metadata snapshot that no reader holds: one that a crash or a power cut left between
     * reserve and release, which dm-thin keeps in the pool's metadata across restarts. While it is
     * there every reserve fails (EBUSY), and with it every commit, listing and changed-block read. At
     * start nothing of this process holds one, so any there is such a leftover.
     */
    synchronized boolean releaseLeftoverMetadataSnapshot() throws IOException {
        if (!status().metadataSnapshotHeld()) {
            return false;
        }
        message("release_metadata_snap");
        return true;
    }

    /**
     * Commits the pool's metadata now rather than within dm-thin's commit period (a second): a pool
     * reserving a metadata snapshot commits first. After it, what was made or deleted in the pool
     * survives a power cut.
     */
    void commit() throws IOException {
        withMetadataSnapshot(meta -> null);
    }

    /** The IDs of the thin devices in the pool's metadata (thin_dump of a metadata snapshot, no mappings). */
    java.util.Set<Long> deviceIds() throws IOException {
        String xml = withMetadataSnapshot(meta -> runner.run("thin_dump", "-m", "--skip-mappings", meta).checkIo()
                .stdout());
        java.util.Set<Long> ids = new java.util.TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<device dev_id=\"(\\d+)\"").matcher(xml);
        while (m.find()) {
            ids.add(Long.parseLong(m.group(1)));
        }
        return ids;
    }

    DmPoolStatus status() throws IOException {
        return DmPoolStatus.parse(dm.status(NAME));
    }

    void message(String message) throws IOException {
        dm.message(NAME, message);
    }

    /** The size of the data file now (it may have grown since the pool was made). */
    long dataFileBytes() throws IOException {
        return Files.size(config.data());
    }

    /**
     * Grows the pool's data file to {@code bytes} (sparse: nothing is written), online: the file is
     * extended, its loop device told (losetup -c), and the pool's table reloaded with the new length;
     * the pool is suspended for the instant of the swap, its volumes' I/O waits meanwhile. A file
     * already that large is left as it is, so a growth cut short by a crash finishes when repeated.
     */
    synchronized void growData(long bytes) throws IOException {
        if (!config.grows()) {
            throw new IllegalStateException("this pool does not grow");
        }
        try (RandomAccessFile f = new RandomAccessFile(config.data().toFile(), "rw")) {
            if (f.length() < bytes) {
                f.setLength(bytes);
            }
        }
        String loop = attach(config.data(), config.dataBytes());
        runner.run("losetup", "-c", loop).checkIo();
        String[] table = dm.table(NAME).split("\\s+");
        long sectors = sizeOf(loop) / 512;
        if (Long.parseLong(table[1]) >= sectors) {
            return;
        }
        table[1] = Long.toString(sectors);
        dm.reload(NAME, String.join(" ", table));
    }

    /** A block device as it is; a file made (sparse) if missing and attached to a loop device, once. */
    private String attach(Path path, long bytes) throws IOException {
        if (path.startsWith("/dev/")) {
            return path.toString();
        }
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(path.getParent());
            try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
                f.setLength(bytes);
            }
        }
        List<String> attached = LoopDevices.boundTo(runner, path);
        if (!attached.isEmpty()) {
            return attached.get(0);
        }
        return runner.run("losetup", "-f", "--show", path.toString()).checkIo().stdout().strip();
    }

    private long sizeOf(String device) throws IOException {
        return Long.parseLong(runner.run("blockdev", "--getsize64", device).checkIo().stdout().strip());
    }

    /** A new pool's metadata device starts with a zeroed superblock. */
    private static boolean zeroed(String device) throws IOException {
        byte[] block = new byte[4096];
        try (InputStream in = Files.newInputStream(Path.of(device))) {
            int n = in.readNBytes(block, 0, block.length);
            return n == block.length && Arrays.equals(block, new byte[block.length]);
        }
    }
}
