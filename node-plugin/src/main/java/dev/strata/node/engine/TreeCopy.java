package dev.strata.node.engine;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Copies a directory tree the way snapshots and clones of directory volumes need it: cp keeps
 * owners, modes, times, xattrs, hard links and sparse files, and reflinks where the filesystem can
 * (xfs, btrfs), so that a copy costs metadata rather than data there.
 */
public final class TreeCopy {
    /** The prefix of something still being built; its real name follows. */
    public static final String PARTIAL = ".partial-";
    private final CommandRunner runner;

    public TreeCopy(CommandRunner runner) {
        this.runner = runner;
    }

    /** Copies {@code from} to {@code to}, which must not exist; on failure nothing is left at {@code to}. */
    public void copy(Path from, Path to) throws IOException {
        requireDirectory(from);
        try {
            liveCopy(runner.run("cp", "-a", "--reflink=auto", "--", from.toString(), to.toString()));
        } catch (CommandRunner.CommandFailedException e) {
            Trash.deleteTree(to);
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * A snapshot copies a tree that a container may be writing. A file that goes between cp's reading
     * of its directory and its copy (a temporary file renamed over another, say) was not there at the
     * instant the copy stands for, so that is not a failure; cp copies everything else all the same.
     * Any other error is.
     */
    static void liveCopy(CommandRunner.Result r) {
        if (r.ok()) {
            return;
        }
        boolean onlyVanished = !r.stderr().isBlank() && r.stderr().lines().allMatch(VANISHED.asMatchPredicate());
        if (!onlyVanished) {
            throw new CommandRunner.CommandFailedException(r);
        }
        LOG.info("copied a tree in use; files that went during the copy: {}", r.stderr().lines().count());
    }

    private static final java.util.regex.Pattern VANISHED = java.util.regex.Pattern.compile(
            "cp: cannot (stat|open) '.*'(: No such file or directory| for reading: No such file or directory)");
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TreeCopy.class);

    /**
     * Copies {@code from} to {@code dir/name} unless that is already there. The copy is built under
     * a {@code .partial-} name and renamed, so a crash never leaves a half copy under the real name.
     */
    public void copyOnce(Path from, Path dir, String name) throws IOException {
        Path target = dir.resolve(name);
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path partial = dir.resolve(PARTIAL + name);
        Trash.deleteTree(partial);
        copy(from, partial);
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The names in {@code dir}, a partial copy counted under the name it was being built for. */
    public static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString())
                    .filter(n -> !n.endsWith(".tmp"))
                    .map(n -> n.startsWith(PARTIAL) ? n.substring(PARTIAL.length()) : n)
                    .collect(Collectors.toSet());
        }
    }

    /** Copies what is inside {@code from} into the existing directory {@code to}. */
    public void copyContents(Path from, Path to) throws IOException {
        requireDirectory(from);
        try {
            liveCopy(runner.run("cp", "-a", "--reflink=auto", "--", from + "/.", to.toString()));
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
