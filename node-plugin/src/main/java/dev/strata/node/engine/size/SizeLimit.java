package dev.strata.node.engine.size;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a volume is held to its size, so that writes past it fail with ENOSPC (EDQUOT with quotas).
 * The limit is on the volume's tree ({@link Limited#tree()}: an overlay's {@code fs} with its upper
 * and work directories, a directory volume's root), and the mechanism keeps what it needs (an image,
 * a project ID) in the volume's home. Every operation converges when repeated.
 */
public interface SizeLimit {
    /** The directory, in an overlay volume's directory, that the limit holds. */
    String FS = "fs";
    /** The StorageClass parameter that opts a volume out of its limit ({@value #NONE}). */
    String PARAMETER = "sizeLimit";
    /** The volume attribute that names how a volume's size is held ({@value #NONE}: it is not). */
    String ATTRIBUTE = "sizeLimit";
    String NONE = "none";
    String AUTO = "auto";

    /** INVALID_ARGUMENT naming {@code field.sizeLimit} unless it is absent, auto or none. */
    static void validate(String field, Map<String, String> parameters) {
        String value = parameters.get(PARAMETER);
        if (value != null && !value.equals(NONE) && !value.equals(AUTO)) {
            throw CsiException.invalidArgument(field + "." + PARAMETER, "invalid value \"" + value
                    + "\" (\"auto\", the default: the best limit the node has; \"none\": the volume shares the "
                    + "filesystem's free space)");
        }
    }

    /** Whether a volume with these parameters is held to its size. */
    static boolean wanted(Map<String, String> parameters) {
        return !NONE.equals(parameters.get(PARAMETER));
    }

    /**
     * One volume's places: {@code home} for the mechanism's files, {@code tree} for the data it
     * limits. A loop-backed tree is a mount point, so it cannot be renamed while {@link #open}.
     */
    record Limited(Path home, Path tree) {
        /** A volume whose tree is {@code fs} in its home, as an overlay volume's is. */
        public static Limited in(Path volumeDir) {
            return new Limited(volumeDir, volumeDir.resolve(FS));
        }
    }

    /** The name reported in the volume's attributes ({@code stratactl volume inspect}). */
    String name();

    /**
     * Makes the tree limited to {@code bytes} and ready to use; cheap when it is already (engines
     * call it before each use). A new tree is empty.
     */
    void create(Limited v, String volumeId, long bytes) throws IOException;

    /** Makes the limit hold again after a restart (a no-op when it does). */
    void open(Limited v) throws IOException;

    /** Raises the limit; the volume may be in use. */
    void expand(Limited v, long bytes) throws IOException;

    /** Undoes {@link #open} and the limit, before the volume is thrown away. */
    void release(Limited v) throws IOException;

    /**
     * Undoes {@link #open} at an orderly stop, or before the tree is renamed, keeping the limit:
     * what the node plugin mounted for itself goes (pods' mounts of the volume keep it alive), and
     * {@link #open} brings it back.
     */
    default void close(Limited v) throws IOException {}

    /** Whether the limit holds now (a loop filesystem is mounted at the tree); health reports when not. */
    default boolean isOpen(Limited v) throws IOException {
        return true;
    }

    /** Whether this mechanism made the limit whose files are in {@code home} (a node may hold both kinds). */
    boolean holds(Path home);

    /**
     * Project quotas where the filesystem under {@code root} enforces them (xfs or ext4 mounted with
     * {@code prjquota}); otherwise a loop-backed ext4 filesystem per volume, which works on any
     * kernel with loop devices. {@code engine} names the engine in the log line.
     */
    static SizeLimit detect(String engine, Path root, Mounter mounter, CommandRunner runner) throws IOException {
        Logger log = LoggerFactory.getLogger(SizeLimit.class);
        Optional<ProjectQuota> quota = ProjectQuota.on(Files.createDirectories(root), runner);
        if (quota.isPresent()) {
            log.info("{} sizes: {}", engine, quota.get());
            return quota.get();
        }
        MountTable.Entry fs = MountTable.read().containing(root).orElse(null);
        log.info("{} sizes: a loop-backed ext4 filesystem per volume ({} on {} has no project quotas)", engine,
                fs == null ? "?" : fs.fsType(), fs == null ? root : fs.mountPoint());
        return new LoopFilesystem(mounter, runner);
    }
}
