package dev.strata.node.engine.thin;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The filesystem on a thin device: made once, with the StorageClass's mkfsOptions checked against
 * {@link MkfsOptions}, and grown after its device has been.
 */
final class ThinFilesystem {
    private final CommandRunner runner;
    private final Mounter mounter;
    private final Path growing;

    /** {@code growing}: the engine's own directory for the brief mounts an xfs growth needs. */
    ThinFilesystem(CommandRunner runner, Mounter mounter, Path growing) {
        this.runner = runner;
        this.mounter = mounter;
        this.growing = growing;
    }

    /**
     * At a start, before any device is touched: undoes the mounts of xfs growths a crash cut off.
     * Such a mount holds its thin device open, so the device could not be removed after, nor its
     * volume deleted; in /tmp, where they were made before, nothing ever found them.
     */
    void sweepGrowths() throws IOException {
        mounter.clearScratch(growing);
    }

    void make(String device, String fs, String options) throws IOException {
        List<String> command = new ArrayList<>(fs.equals("xfs")
                ? List.of("mkfs.xfs", "-q", "-K") // -K: a new thin device reads as zeros; discarding it is waste
                : List.of("mkfs.ext4", "-q", "-F", "-E", "nodiscard,lazy_itable_init=1,lazy_journal_init=1"));
        command.addAll(MkfsOptions.parse("parameters." + ThinEngine.MKFS_OPTIONS_PARAMETER, fs, options));
        command.add("--");
        command.add(device);
        runner.run(command).checkIo();
    }

    /** Grows the filesystem to fill its device: online where it is mounted, else unmounted. */
    void grow(String device, String fs) throws IOException {
        var mounted = MountTable.read().entries().stream().filter(e -> e.source().equals(device)).findFirst();
        if (mounted.isEmpty()) {
            growUnmounted(device, fs);
        } else if (fs.equals("xfs")) {
            runner.run("xfs_growfs", "--", mounted.get().mountPoint().toString()).checkIo();
        } else {
            runner.run("resize2fs", "--", device).checkIo();
        }
    }

    /** xfs only grows mounted: briefly, here; ext4 is checked first, as resize2fs demands. */
    private void growUnmounted(String device, String fs) throws IOException {
        if (fs.equals("xfs")) {
            Path tmp = Files.createTempDirectory(Files.createDirectories(growing), "grow-");
            try {
                mounter.mount(device, tmp, "xfs", 0, null);
                try {
                    runner.run("xfs_growfs", "--", tmp.toString()).checkIo();
                } finally {
                    mounter.unmount(tmp);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } else {
            CommandRunner.Result fsck = runner.run("e2fsck", "-f", "-p", "--", device);
            if (fsck.exitCode() > 1) {
                fsck.checkIo();
            }
            runner.run("resize2fs", "--", device).checkIo();
        }
    }
}
