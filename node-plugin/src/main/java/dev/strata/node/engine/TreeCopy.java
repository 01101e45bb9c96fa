package dev.strata.node.engine;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Copies a directory tree the way snapshots and clones of directory volumes need it: cp keeps
 * owners, modes, times, xattrs, hard links and sparse files, and reflinks where the filesystem can
 * (xfs, btrfs), so that a copy costs metadata rather than data there.
 */
public final class TreeCopy {
    private final CommandRunner runner;

    public TreeCopy(CommandRunner runner) {
        this.runner = runner;
    }

    /** Copies {@code from} to {@code to}, which must not exist; on failure nothing is left at {@code to}. */
    public void copy(Path from, Path to) throws IOException {
        requireDirectory(from);
        try {
            runner.run("cp", "-a", "--reflink=auto", "--", from.toString(), to.toString()).check();
        } catch (CommandRunner.CommandFailedException e) {
            Trash.deleteTree(to);
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Copies what is inside {@code from} into the existing directory {@code to}. */
    public void copyContents(Path from, Path to) throws IOException {
        requireDirectory(from);
        try {
            runner.run("cp", "-a", "--reflink=auto", "--", from + "/.", to.toString()).check();
        } catch (CommandRunner.CommandFailedException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static void requireDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("copy source " + dir + " is missing");
        }
    }
}
