package dev.strata.node.engine.size;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.node.mount.MountTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A volume limited by a project quota (xfs, or ext4 made with the {@code project} feature): its
 * {@code fs} directory is a project (the inherit flag makes everything created below it, including
 * overlayfs copy-ups, count against it) with a hard block limit, so writes past it fail with EDQUOT
 * or ENOSPC, and statfs inside it reports the limit as the size. Nothing is mounted and nothing needs
 * reopening after a restart. The project ID is derived from the volume ID.
 */
public final class ProjectQuota implements SizeLimit {
    /** The filesystems whose project quotas this drives, through {@code xfs_quota}. */
    static final Set<String> FILESYSTEMS = Set.of("xfs", "ext4");
    private static final String PROJECT = "project";

    private final String fsType;
    private final Path mountPoint;
    private final CommandRunner runner;

    ProjectQuota(String fsType, Path mountPoint, CommandRunner runner) {
        this.fsType = fsType;
        this.mountPoint = mountPoint;
        this.runner = runner;
    }

    /**
     * Project quotas on the filesystem that holds {@code path}, if it enforces them (xfs or ext4
     * mounted with {@code prjquota}).
     */
    public static Optional<ProjectQuota> on(Path path, CommandRunner runner) throws IOException {
        return MountTable.read().containing(path)
                .filter(fs -> FILESYSTEMS.contains(fs.fsType()) && hasProjectQuota(fs))
                .map(fs -> new ProjectQuota(fs.fsType(), fs.mountPoint(), runner));
    }

    private static boolean hasProjectQuota(MountTable.Entry fs) {
        List<String> options = List.of((fs.options() + "," + fs.superOptions()).split(","));
        return options.contains("prjquota") || options.contains("pquota");
    }

    /** The name of the mechanism on a filesystem of this type, as {@link #name()} gives it. */
    public static String name(String fsType) {
        return fsType + "-project-quota";
    }

    @Override
    public String name() {
        return name(fsType);
    }

    @Override
    public String toString() {
        return fsType + " project quotas on " + mountPoint;
    }

    @Override
    public void create(Limited v, String volumeId, long bytes) throws IOException {
        if (holds(v.home())) {
            return; // made already: the project file is written last
        }
        Path fs = Files.createDirectories(v.tree());
        long project = projectId(volumeId);
        xfsQuota("project -s -p " + fs + " " + project);
        limit(project, bytes);
        AtomicFile.write(v.home().resolve(PROJECT), Long.toString(project).getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public boolean holds(Path home) {
        return Files.exists(home.resolve(PROJECT));
    }

    @Override
    public void open(Limited v) {
        // Quotas live in the filesystem: nothing to reopen.
    }

    @Override
    public void expand(Limited v, long bytes) throws IOException {
        if (!holds(v.home())) {
            return; // not made yet: it is made at the recorded size
        }
        limit(project(v), bytes);
    }

    @Override
    public void release(Limited v) throws IOException {
        if (holds(v.home())) {
            limit(project(v), 0); // 0 = no limit; the tree goes to the trash next
        }
    }

    private void limit(long project, long bytes) throws IOException {
        xfsQuota("limit -p bhard=" + bytes + " " + project);
    }

    private void xfsQuota(String command) throws IOException {
        // -f: xfs_quota drives other filesystems' quotas only in its "foreign" mode.
        CommandRunner.Result r = fsType.equals("xfs")
                ? runner.run("xfs_quota", "-x", "-c", command, mountPoint.toString())
                : runner.run("xfs_quota", "-x", "-f", "-c", command, mountPoint.toString());
        r.checkIo();
    }

    private static long project(Limited v) throws IOException {
        return Long.parseLong(Files.readString(v.home().resolve(PROJECT)).strip());
    }

    /** 31 bits of SHA-256 of the volume ID, never 0 (the default project). */
    static long projectId(String volumeId) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(volumeId.getBytes(StandardCharsets.UTF_8));
            long id = ((h[0] & 0x7fL) << 24) | ((h[1] & 0xffL) << 16) | ((h[2] & 0xffL) << 8) | (h[3] & 0xffL);
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
