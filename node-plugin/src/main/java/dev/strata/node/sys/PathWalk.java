package dev.strata.node.sys;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Resolves a path given by the CO (a staging or target path) into a handle, one component at a
 * time from {@code /}, each opened without following it. A symbolic link on the way is followed
 * only when only root could have placed it there: the link is owned by root and sits in a
 * directory that no one else may write. That keeps the hosts where an admin relocated kubelet's
 * directory with a link working, and refuses a link a local user planted to redirect a mount.
 * What was resolved stays pinned by the handle, so nothing can be swapped in after the check.
 */
public final class PathWalk {
    private static final int MAX_LINKS = 40;

    private PathWalk() {}

    /**
     * The directory that holds {@code absolute}'s last component, which is not looked at. Missing
     * directories on the way are created (root's, mode {@code 0750}) when {@code create} is set.
     */
    public static FileHandle parentOf(Path absolute, boolean create) throws IOException {
        Path parent = absolute.getParent();
        if (parent == null) {
            throw new IllegalArgumentException(absolute + " has no parent directory");
        }
        FileHandle dir = open(parent, create);
        if (!dir.stat().isDirectory()) {
            dir.close();
            throw new java.nio.file.NotDirectoryException(parent.toString());
        }
        return dir;
    }

    /**
     * The file or directory {@code absolute}, resolved as described above (a trusted link at the end
     * is followed too). Missing directories are created when {@code create} is set.
     */
    public static FileHandle open(Path absolute, boolean create) throws IOException {
        if (!absolute.isAbsolute()) {
            throw new IllegalArgumentException(absolute + " is not absolute");
        }
        Deque<String> todo = components(absolute);
        FileHandle current = FileHandle.open(Path.of("/"));
        int links = 0;
        try {
            while (!todo.isEmpty()) {
                String name = todo.pop();
                FileHandle next = child(current, name, create);
                FileHandle.Stat stat = next.stat();
                if (stat.isSymbolicLink()) {
                    requireTrusted(current, name, stat);
                    if (++links > MAX_LINKS) {
                        throw FileHandle.failure("resolve", absolute.toString(), FileHandle.ELOOP);
                    }
                    Path target = current.realPath().resolve(current.readLink(name)).normalize();
                    next.close();
                    Deque<String> rest = components(target);
                    rest.addAll(todo);
                    todo = rest;
                    current.close();
                    current = FileHandle.open(Path.of("/"));
                    continue;
                }
                if (!stat.isDirectory() && !todo.isEmpty()) {
                    next.close();
                    throw new java.nio.file.NotDirectoryException(absolute + ": " + name + " is not a directory");
                }
                current.close();
                current = next;
            }
            return current;
        } catch (IOException | RuntimeException e) {
            current.close();
            throw e;
        }
    }

    private static FileHandle child(FileHandle dir, String name, boolean create) throws IOException {
        try {
            return dir.child(name);
        } catch (NoSuchFileException e) {
            if (!create) {
                throw e;
            }
            try {
                dir.mkdir(name, 0750);
            } catch (java.nio.file.FileSystemException raced) {
                // made meanwhile by someone else: open what is there, and check it like anything else
            }
            return dir.child(name);
        }
    }

    /** A link only root could have made: root's, in a directory only root may write. */
    private static void requireTrusted(FileHandle dir, String name, FileHandle.Stat link) throws IOException {
        FileHandle.Stat parent = dir.stat();
        boolean othersMayWrite = (parent.permissions() & 0002) != 0
                || (parent.permissions() & 0020) != 0 && parent.gid() != 0;
        if (link.uid() != 0 || parent.uid() != 0 || othersMayWrite) {
            throw new FileHandle.SymbolicLinkException(dir.realPath().resolve(name).toString(),
                    "a symbolic link that a user other than root could have placed; it is not followed");
        }
    }

    private static Deque<String> components(Path absolute) {
        Deque<String> parts = new ArrayDeque<>();
        for (Path part : absolute.normalize()) {
            String name = part.toString();
            if (name.equals("..")) {
                throw new IllegalArgumentException(absolute + " contains ..");
            }
            if (!name.isEmpty() && !name.equals(".")) {
                parts.add(name);
            }
        }
        return parts;
    }
}
