package dev.strata.node.engine.size;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceNumber;
import dev.strata.node.sys.LoopDevices;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * A volume's writable part on its own ext4 filesystem in a sparse file, mounted through a loop
 * device: the filesystem is the volume's size, so a write past it fails with ENOSPC, and deleting a
 * file gives the space back to the host (the mount has {@code discard}, which punches holes in the
 * file). mount(8) attaches the loop device with autoclear, so unmounting frees it and a crash can
 * leak no loop device that is not also a mount.
 */
public final class LoopFilesystem implements SizeLimit {
    public static final String NAME = "loop-ext4";
    /** ext4 with a journal needs a few MiB; smaller volumes get this much. */
    static final long MINIMUM_BYTES = 16L << 20;
    private static final String IMAGE = "disk.img";
    private static final Pattern BLOCK_COUNT = Pattern.compile("(?m)^Block count:\\s+(\\d+)$");
    private static final Pattern BLOCK_SIZE = Pattern.compile("(?m)^Block size:\\s+(\\d+)$");
    /** 100 ms apart: the kernel clears a loop device within milliseconds of its last unmount. */
    private static final int CLEARING_POLLS = 50;

    private final Mounter mounter;
    private final CommandRunner runner;

    public LoopFilesystem(Mounter mounter, CommandRunner runner) {
        this.mounter = mounter;
        this.runner = runner;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void create(Limited v, String volumeId, long bytes) throws IOException {
        Path image = v.home().resolve(IMAGE);
        if (!Files.exists(image)) {
            Path partial = v.home().resolve(IMAGE + ".tmp");
            setLength(partial, Math.max(bytes, MINIMUM_BYTES)); // sparse: no block is written
            // A new sparse file reads as zeros, so neither mkfs nor the kernel (after mount, in the
            // background) need zero the inode tables and journal: mkfs writes a few MiB at any size.
            // No reserved blocks: the volume is all the user's.
            runner.run("mkfs.ext4", "-q", "-F", "-m", "0", "-L", label(volumeId),
                    "-E", "assume_storage_prezeroed=1,nodiscard", "--", partial.toString()).checkIo();
            AtomicFile.rename(partial, image); // mkfs synced what it wrote
            // mkfs's lost+found stays, for e2fsck: the engines keep a volume's data in a directory
            // of the filesystem, not at its root, so pods never see it.
        }
        open(v);
    }

    @Override
    public boolean holds(Path home) {
        return Files.exists(home.resolve(IMAGE));
    }

    @Override
    public void open(Limited v) throws IOException {
        if (!Files.exists(v.home().resolve(IMAGE))) {
            return; // a create cut short: its CREATING record has it deleted
        }
        Path fs = Files.createDirectories(v.tree());
        if (!isMounted(fs)) {
            mount(v.home().resolve(IMAGE), fs);
        }
    }

    /**
     * A filesystem still alive from before a stop (a pod's mount holds it) is mounted again from its
     * own loop device: a second device on the same image would be a second, independent ext4 on the
     * same blocks. A device whose last unmount has just returned is still listed while the kernel
     * clears it (autoclear runs after), and mounting it fails: that one is waited out.
     */
    private void mount(Path image, Path fs) throws IOException {
        List<String> bound = LoopDevices.boundTo(runner, image);
        if (bound.size() == 1 && runner.run("mount", "-t", "ext4", "-o", "discard,noatime", bound.get(0),
                fs.toString()).ok()) {
            return;
        }
        if (!unboundWithin(image)) {
            throw new IOException("loop devices " + LoopDevices.boundTo(runner, image) + " stay bound to " + image
                    + " and none mounts");
        }
        runner.run("mount", "-t", "ext4", "-o", "loop,discard,noatime", image.toString(), fs.toString()).checkIo();
        directIo(fs);
    }

    /** Whether the file's loop devices go (the last unmount has returned) within the polls. */
    private boolean unboundWithin(Path file) throws IOException {
        for (int attempt = 0; !LoopDevices.boundTo(runner, file).isEmpty(); attempt++) {
            if (attempt == CLEARING_POLLS) {
                return false;
            }
            pause();
        }
        return true;
    }

    private static void pause() throws IOException {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while a loop device was being cleared");
        }
    }

    @Override
    public void expand(Limited v, long bytes) throws IOException {
        Path image = v.home().resolve(IMAGE);
        if (!Files.exists(image)) {
            return; // not made yet: it is made at the recorded size
        }
        // The filesystem, not the image, says whether the volume is big enough: a growth that failed
        // or was killed after the image grew leaves a small filesystem in a big image, and its retry
        // must finish it, not find the image big enough and answer that the volume grew.
        if (Files.size(image) >= bytes && filesystemBytes(image) >= bytes) {
            return;
        }
        if (Posix.hasCapability(Posix.CAP_SYS_RESOURCE)) {
            growOnline(v, image, bytes);
        } else {
            growOffline(v, image, bytes);
        }
    }

    private void growOnline(Limited v, Path image, long bytes) throws IOException {
        open(v);
        List<String> bound = LoopDevices.boundTo(runner, image);
        if (bound.size() != 1) {
            throw new IOException("no single loop device backs " + image + ": " + bound);
        }
        String device = bound.get(0);
        setLength(image, bytes);
        runner.run("losetup", "-c", device).checkIo(); // the loop device learns the new size
        runner.run("resize2fs", "--", device).checkIo(); // online: ext4 grows while mounted
    }

    /**
     * The kernel grows a mounted ext4 only for a process with CAP_SYS_RESOURCE, which some hosts
     * (and container runtimes) drop even for root. Without it, a volume that is not in use is grown
     * unmounted, where resize2fs works on the file itself.
     */
    private void growOffline(Limited v, Path image, long bytes) throws IOException {
        Path fs = v.tree();
        // An overlay holds its upper filesystem through a private mount: unmounting ours would
        // succeed and leave the filesystem live, so "in use" is read from the mount table and from
        // the loop device, which outlives the unmount while anything still uses the filesystem.
        String upperdir = "upperdir=" + fs.resolve("upper") + ",";
        boolean staged = MountTable.read().entries().stream()
                .anyMatch(e -> e.fsType().equals("overlay") && (e.superOptions() + ",").contains(upperdir));
        if (!staged) {
            mounter.unmount(fs); // a real unmount: resize2fs must find the filesystem closed
        }
        if (staged || !unboundWithin(image)) {
            open(v);
            // CSI's answer for a volume that cannot grow while published.
            throw CsiException.failedPrecondition("cannot grow the volume while it is in use: growing a mounted "
                    + "ext4 needs CAP_SYS_RESOURCE, which the node plugin lacks (run it privileged, as the DaemonSet "
                    + "does)");
        }
        try {
            setLength(image, bytes);
            CommandRunner.Result fsck = runner.run("e2fsck", "-f", "-p", "--", image.toString());
            if (fsck.exitCode() > 1) { // 1: errors corrected; resize2fs wants a freshly checked filesystem
                fsck.checkIo();
            }
            runner.run("resize2fs", "--", image.toString()).checkIo();
        } finally {
            open(v);
        }
        LoggerFactory.getLogger(LoopFilesystem.class).info("grew {} to {} bytes unmounted", fs, bytes);
    }

    /** Grows the image to {@code bytes}; never shrinks it (a retry may ask for less than a failed try). */
    private static void setLength(Path image, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            if (f.length() < bytes) {
                f.setLength(bytes);
            }
        }
    }

    /** The size of the ext4 filesystem in {@code image}, from its superblock. */
    private long filesystemBytes(Path image) throws IOException {
        String header = runner.run("dumpe2fs", "-h", "--", image.toString()).checkIo().stdout();
        Matcher count = BLOCK_COUNT.matcher(header);
        Matcher size = BLOCK_SIZE.matcher(header);
        if (!count.find() || !size.find()) {
            throw new IOException("dumpe2fs names no block count and size for " + image);
        }
        return Long.parseLong(count.group(1)) * Long.parseLong(size.group(1));
    }

    @Override
    public void release(Limited v) throws IOException {
        Path fs = v.tree();
        if (Files.isDirectory(fs, LinkOption.NOFOLLOW_LINKS) && isMounted(fs)) {
            // Detached: a mount that something still holds goes when its last user does, and
            // autoclear frees the loop device then.
            mounter.detach(fs);
        }
    }

    @Override
    public boolean isOpen(Limited v) throws IOException {
        return !holds(v.home()) || Files.isDirectory(v.tree(), LinkOption.NOFOLLOW_LINKS) && isMounted(v.tree());
    }

    @Override
    public void close(Limited v) throws IOException {
        Path fs = v.tree();
        if (Files.isDirectory(fs, LinkOption.NOFOLLOW_LINKS) && isMounted(fs)) {
            try {
                mounter.unmount(fs);
            } catch (IOException busy) {
                mounter.detach(fs); // something of the node's own still inside: it goes when that does
            }
        }
    }

    /**
     * Switches the loop device to direct I/O: without it every block is cached twice, once in the
     * volume's filesystem and once in the image file's, which halves throughput and doubles memory.
     * A backing filesystem without O_DIRECT (tmpfs) keeps buffered I/O.
     */
    private void directIo(Path fs) {
        MountTable.read().at(fs).map(MountTable.Entry::source).filter(d -> d.startsWith("/dev/loop"))
                .ifPresent(device -> {
                    CommandRunner.Result r = runner.run("losetup", "--direct-io=on", device);
                    if (!r.ok()) {
                        LoggerFactory.getLogger(LoopFilesystem.class).info("{} stays buffered: {}", device,
                                r.stderr().strip());
                    }
                });
    }

    /** A mount point has another device than its parent directory. */
    private static boolean isMounted(Path dir) throws IOException {
        return !DeviceNumber.ofFilesystem(dir).equals(DeviceNumber.ofFilesystem(dir.getParent()));
    }

    /** ext4 labels hold 16 bytes; the end of the ID is its most random part. */
    private static String label(String volumeId) {
        return volumeId.length() <= 16 ? volumeId : volumeId.substring(volumeId.length() - 16);
    }

}
