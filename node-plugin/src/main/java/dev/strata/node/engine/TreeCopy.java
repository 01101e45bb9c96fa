package dev.strata.node.engine;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.node.sys.FileHandle;
import dev.strata.node.sys.Sandbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Copies a directory tree the way snapshots and clones of directory volumes need it: cp keeps
 * owners, modes, times, xattrs, hard links and sparse files, and reflinks where the filesystem can
 * (xfs, btrfs), so that a copy costs metadata rather than data there. The tree belongs to a tenant
 * and may change while it is copied, so cp runs in a {@link Sandbox} that holds only the source and
 * the target: no symbolic link swapped in during the copy can lead it to the host's files.
 */
public final class TreeCopy {
    /** The prefix of something still being built; its real name follows. */
    public static final String PARTIAL = ".partial-";
    /** Copies again of files that keep being replaced while they are copied, before giving up on them. */
    private static final int RECOPIES = 5;
    private final CommandRunner runner;

    public TreeCopy(CommandRunner runner) {
        this.runner = runner;
    }

    /** Copies {@code from} to {@code to}, which must not exist; on failure nothing is left at {@code to}. */
    public void copy(Path from, Path to) throws IOException {
        requireDirectory(from);
        Files.createDirectory(to);
        try {
            copyContents(from, to);
        } catch (IOException | RuntimeException e) {
            Trash.deleteTree(to);
            throw e;
        }
    }

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
        AtomicFile.rename(partial, target);
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

    /**
     * Copies what is inside {@code from} into the existing directory {@code to}, and the attributes of
     * {@code from} itself onto {@code to}.
     */
    public void copyContents(Path from, Path to) throws IOException {
        requireDirectory(from);
        List<String> replaced = sandboxed(from, to,
                List.of("cp", "-a", "--reflink=auto", "--", Sandbox.SOURCE + "/.", Sandbox.TARGET + "/"));
        // A file renamed over while cp copied it (a counter replaced by rename) was there all along:
        // it is copied again as it is now, into the directory the first pass made for it. Names go
        // to the shell as arguments, never as code.
        for (int round = 0; !replaced.isEmpty() && round < RECOPIES; round++) {
            List<String> again = new ArrayList<>(List.of("sh", "-c", "s=0; for f; do cp -a --reflink=auto -- \""
                    + Sandbox.SOURCE + "/$f\" \"" + Sandbox.TARGET + "/$f\" || s=1; done; exit $s", "sh"));
            again.addAll(replaced);
            replaced = sandboxed(from, to, again);
        }
        FileHandle.syncFilesystem(to); // a copy is a snapshot's or a volume's data: durable before its record
    }

    /** Runs a copy in a sandbox that holds only the two trees; what cp skipped as replaced. */
    private List<String> sandboxed(Path from, Path to, List<String> copy) throws IOException {
        CommandRunner.Result r = runner.run(Sandbox.command(
                List.of(Sandbox.Bind.readOnly(from, Sandbox.SOURCE), Sandbox.Bind.writable(to, Sandbox.TARGET)), copy));
        try {
            LiveCopy.check(r);
        } catch (CommandRunner.CommandFailedException e) {
            throw new IOException(e.getMessage(), e);
        }
        return LiveCopy.replaced(r);
    }

    /** The source must be a directory. */
    private static void requireDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("copy source " + dir + " is missing");
        }
    }
}
