package dev.strata.node.sys;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Loop devices, as the thin pool's files and the loop-backed filesystems of sized volumes use them. */
public final class LoopDevices {
    private LoopDevices() {}

    /** The loop devices bound to {@code file} (losetup -j), in losetup's order. */
    public static List<String> boundTo(CommandRunner runner, Path file) throws IOException {
        String listed = runner.run("losetup", "-j", file.toString(), "-n", "-O", "NAME").checkIo().stdout();
        return listed.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
}
