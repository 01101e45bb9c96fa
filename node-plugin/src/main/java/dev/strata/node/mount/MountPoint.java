package dev.strata.node.mount;

import dev.strata.node.sys.FileHandle;
import dev.strata.node.sys.PathWalk;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a mount goes or is undone, pinned: the directory that holds it ({@link PathWalk}, so no
 * link a user planted is followed) and the name in it. A mount is made onto the handle of the entry
 * itself, never through a path that could be swapped meanwhile; later calls reach the mount through
 * the pinned directory ({@code /proc/self/fd/N/name}), and a mount point cannot be renamed or
 * replaced while it is mounted.
 */
public final class MountPoint implements AutoCloseable {
    private final FileHandle parent;
    private final String name;
    private final Path path;

    private MountPoint(FileHandle parent, String name, Path path) {
        this.parent = parent;
        this.name = name;
        this.path = path;
    }

    /** The mount point at {@code path}; its directories must exist, the entry itself need not. */
    public static MountPoint at(Path path) throws IOException {
        return new MountPoint(PathWalk.parentOf(path, false), path.getFileName().toString(), path);
    }

    /** As {@link #at}, creating the missing directories above the entry. */
    public static MountPoint creatingParents(Path path) throws IOException {
        return new MountPoint(PathWalk.parentOf(path, true), path.getFileName().toString(), path);
    }

    /** The path as given (for messages and records). */
    public Path path() {
        return path;
    }

    /** Where the entry is, as the kernel names it (no link in it). */
    public Path realPath() throws IOException {
        return parent.realPath().resolve(name);
    }

    /** The entry, not followed if it is a link: what a mount is made onto. */
    public FileHandle entry() throws IOException {
        return parent.child(name);
    }

    /** The directory that holds the entry. */
    public FileHandle parent() {
        return parent;
    }

    public String name() {
        return name;
    }

    /** The entry reached through the pinned directory: for calls on a mount that is already there. */
    String viaParent() {
        return parent.procPath().resolve(name).toString();
    }

    @Override
    public void close() {
        parent.close();
    }
}
