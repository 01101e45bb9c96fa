package dev.strata.node.engine.overlay;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How an overlay volume's writable part is held to its size: writes past it fail with ENOSPC. Each
 * volume directory gets an {@code fs} directory holding {@code upper} and {@code work}; the limit
 * is on that directory. Every operation converges when repeated.
 */
interface SizeLimit {
    /** The name reported in the volume's attributes ({@code stratactl volume inspect}). */
    String name();

    /** Makes {@code volumeDir/fs} (with upper and work) limited to {@code bytes}. */
    void create(Path volumeDir, String volumeId, long bytes) throws IOException;

    /** Makes {@code volumeDir/fs} usable again after a restart (a no-op when it is). */
    void open(Path volumeDir) throws IOException;

    /** Raises the limit; the volume may be in use. */
    void expand(Path volumeDir, long bytes) throws IOException;

    /** Undoes {@link #open} and the limit, before the volume directory is thrown away. */
    void release(Path volumeDir) throws IOException;

    /**
     * Makes {@code fs/upper} and {@code fs/work} unless they are there. The upper directory's root is
     * the volume's root as pods see it: {@code 0755}, as Docker makes a new volume, stated rather than
     * left to the umask, and not reset later (a pod may have changed it).
     */
    static void makeUpperAndWork(Path fs) throws IOException {
        Path upper = fs.resolve("upper");
        if (!Files.isDirectory(upper, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(upper);
            dev.strata.node.sys.Posix.chmod(upper, 0755);
        }
        Files.createDirectories(fs.resolve("work"));
    }

    /**
     * Project quotas where the filesystem under {@code root} enforces them (xfs mounted with
     * {@code prjquota}); otherwise a loop-backed ext4 filesystem per volume, which works on any
     * kernel with loop devices.
     */
    static SizeLimit detect(Path root, Mounter mounter, CommandRunner runner) throws IOException {
        Logger log = LoggerFactory.getLogger(SizeLimit.class);
        MountTable.Entry fs = MountTable.read().containing(Files.createDirectories(root)).orElse(null);
        if (fs != null && fs.fsType().equals("xfs") && hasProjectQuota(fs)) {
            log.info("overlay sizes: xfs project quotas on {}", fs.mountPoint());
            return new ProjectQuota(fs.mountPoint(), runner);
        }
        log.info("overlay sizes: a loop-backed ext4 filesystem per volume ({} on {} has no project quotas)",
                fs == null ? "?" : fs.fsType(), fs == null ? root : fs.mountPoint());
        return new LoopFilesystem(mounter, runner);
    }

    private static boolean hasProjectQuota(MountTable.Entry fs) {
        List<String> options = List.of((fs.options() + "," + fs.superOptions()).split(","));
        return options.contains("prjquota") || options.contains("pquota");
    }
}
