package dev.strata.node.engine.overlay;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A volume's writable part limited by an xfs project quota: its {@code fs} directory is a project
 * (the inherit flag makes everything created below it, including overlayfs copy-ups, count
 * against it) with a hard block limit, so writes past it fail with ENOSPC. Nothing is mounted and
 * nothing needs reopening after a restart. The project ID is derived from the volume ID.
 */
final class ProjectQuota implements SizeLimit {
    static final String NAME = "xfs-project-quota";
    private static final String FS = "fs";

    private final Path mountPoint;
    private final CommandRunner runner;

    ProjectQuota(Path mountPoint, CommandRunner runner) {
        this.mountPoint = mountPoint;
        this.runner = runner;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void create(Path volumeDir, String volumeId, long bytes) throws IOException {
        if (Files.isDirectory(volumeDir.resolve(FS).resolve("work"))) {
            return; // made already: work is made last
        }
        Path fs = Files.createDirectories(volumeDir.resolve(FS));
        long project = projectId(volumeId);
        Files.writeString(volumeDir.resolve("project"), Long.toString(project));
        xfsQuota("project -s -p " + fs + " " + project);
        limit(project, bytes);
        SizeLimit.makeUpperAndWork(fs);
    }

    @Override
    public void open(Path volumeDir) {
        // Quotas live in the filesystem: nothing to reopen.
    }

    @Override
    public void expand(Path volumeDir, long bytes) throws IOException {
        if (!Files.exists(volumeDir.resolve("project"))) {
            return; // not made yet: it is made at the recorded size
        }
        limit(project(volumeDir), bytes);
    }

    @Override
    public void release(Path volumeDir) throws IOException {
        Path file = volumeDir.resolve("project");
        if (Files.exists(file)) {
            limit(project(volumeDir), 0); // 0 = no limit; the tree goes to the trash next
        }
    }

    private void limit(long project, long bytes) throws IOException {
        xfsQuota("limit -p bhard=" + bytes + " " + project);
    }

    private void xfsQuota(String command) throws IOException {
        CommandRunner.Result r = runner.run("xfs_quota", "-x", "-c", command, mountPoint.toString());
        if (!r.ok()) {
            throw new IOException(new CommandRunner.CommandFailedException(r).getMessage());
        }
    }

    private static long project(Path volumeDir) throws IOException {
        return Long.parseLong(Files.readString(volumeDir.resolve("project")).strip());
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
