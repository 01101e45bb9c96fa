package dev.strata.node.engine.size;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** Filesystems mounted with project quotas, for the VM tests of the engines that use them. */
public final class ProjectQuotaFilesystems {
    private static final long MIB = 1L << 20;

    private ProjectQuotaFilesystems() {}

    /** An xfs in {@code dir} mounted with project quotas, or a skip saying why the kernel cannot. */
    public static Path xfs(Path dir, CommandRunner runner) throws IOException {
        return make(dir, "xfs", List.of("mkfs.xfs", "-q"), runner);
    }

    /** An ext4 with the project feature in {@code dir}, mounted with project quotas, or a skip. */
    public static Path ext4(Path dir, CommandRunner runner) throws IOException {
        return make(dir, "ext4", List.of("mkfs.ext4", "-q", "-O", "quota,project"), runner);
    }

    /**
     * Writes {@code mib} MiB as a pod would, without CAP_SYS_RESOURCE: the kernel lets a process that
     * has it past an ext4 quota's hard limit (xfs holds everyone to it), and the tests run as root.
     */
    public static CommandRunner.Result writeAsAPod(CommandRunner runner, Path file, int mib) {
        return runner.run("setpriv", "--bounding-set", "-sys_resource", "--inh-caps", "-sys_resource", "--",
                "dd", "if=/dev/zero", "of=" + file, "bs=1M", "count=" + mib, "conv=fsync");
    }

    private static Path make(Path dir, String type, List<String> mkfs, CommandRunner runner) throws IOException {
        Path image = dir.toRealPath().resolve(type + ".img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(512 * MIB); // mkfs.xfs wants at least 300 MB
        }
        List<String> command = new ArrayList<>(mkfs);
        command.add(image.toString());
        CommandRunner.Result made = runner.run(command);
        assertEquals(0, made.exitCode(), String.join(" ", command) + ": " + made.stderr());
        Path mountPoint = Files.createDirectories(dir.toRealPath().resolve(type));
        CommandRunner.Result mount = runner.run("mount", "-o", "loop,prjquota", image.toString(), mountPoint.toString());
        Assumptions.assumeTrue(mount.ok(), "this kernel has no " + type + " project quotas: " + mount.stderr().strip());
        return mountPoint;
    }
}
