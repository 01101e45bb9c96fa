package dev.strata.backup;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Walks a tree in pre-order (each directory before what it holds, names sorted) without following
 * symlinks and without descending into other filesystems mounted inside it: a mount point is
 * reported as an empty directory. Iterative, so a deep tree cannot overflow the stack. A walk of
 * an overlay layer (given {@link LayerMarks}) also reports whiteouts and opaque directories.
 */
final class TreeWalker {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    // Named, not "unix:*": that also asks for the owner's and group's names, one getpwuid and one
    // getgrgid per file (each a read of /etc/passwd or /etc/group), for names the walk never uses.
    private static final String ATTRIBUTES =
            "unix:mode,uid,gid,ino,dev,rdev,size,lastModifiedTime,isDirectory,isRegularFile,isSymbolicLink";

    /** One file, directory or symlink found, with what its {@code unix:} attributes say of it. */
    record Found(String path, Path file, String type, int mode, int uid, int gid, long mtimeNanos, long size,
            long inode, String target, boolean opaque) {
        Manifest.Entry toEntry(long contentSize, List<Manifest.ChunkRef> chunks) {
            return new Manifest.Entry(path, type, mode, uid, gid, mtimeNanos, contentSize, inode, target, chunks,
                    opaque);
        }
    }

    /** Receives what the walk finds, in order. */
    interface Visitor {
        void visit(Found found) throws IOException;
    }

    private record Child(String path, Path file) {}

    private TreeWalker() {}

    /**
     * Walks {@code root}, which must be a directory; returns how many entries of other types it
     * skipped. {@code marks}: the layer's marks to read, null for a tree that is not a layer.
     */
    static long walk(Path root, LayerMarks marks, Visitor visitor) throws IOException {
        Map<String, Object> rootAttributes = Files.readAttributes(root, ATTRIBUTES, NOFOLLOW);
        if (!Boolean.TRUE.equals(rootAttributes.get("isDirectory"))) {
            throw new BackupException(BackupException.Kind.INVALID, "the tree to back up, " + root + ", is not a directory");
        }
        Object rootDevice = rootAttributes.get("dev");
        visitor.visit(found(".", root, Manifest.Entry.DIR, rootAttributes, marks));
        long skipped = 0;
        Deque<Iterator<Child>> pending = new ArrayDeque<>();
        pending.push(children(root, ".").iterator());
        while (!pending.isEmpty()) {
            Iterator<Child> siblings = pending.peek();
            if (!siblings.hasNext()) {
                pending.pop();
                continue;
            }
            Child child = siblings.next();
            Map<String, Object> attributes = Files.readAttributes(child.file(), ATTRIBUTES, NOFOLLOW);
            String type = typeOf(attributes, marks != null);
            if (type == null) {
                skipped++;
                continue;
            }
            visitor.visit(found(child.path(), child.file(), type, attributes, marks));
            if (type.equals(Manifest.Entry.DIR) && rootDevice.equals(attributes.get("dev"))) {
                pending.push(children(child.file(), child.path()).iterator());
            }
        }
        return skipped;
    }

    private static List<Child> children(Path dir, String path) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                names.add(entry.getFileName().toString());
            }
        }
        names.sort(null);
        List<Child> children = new ArrayList<>(names.size());
        for (String name : names) {
            children.add(new Child(path.equals(".") ? name : path + "/" + name, dir.resolve(name)));
        }
        return children;
    }

    private static String typeOf(Map<String, Object> attributes, boolean layer) {
        if (Boolean.TRUE.equals(attributes.get("isSymbolicLink"))) {
            return Manifest.Entry.SYMLINK;
        }
        if (Boolean.TRUE.equals(attributes.get("isDirectory"))) {
            return Manifest.Entry.DIR;
        }
        if (Boolean.TRUE.equals(attributes.get("isRegularFile"))) {
            return Manifest.Entry.FILE;
        }
        boolean whiteout = ((Integer) attributes.get("mode") & S_IFMT) == S_IFCHR
                && ((Long) attributes.get("rdev")) == 0;
        return layer && whiteout ? Manifest.Entry.WHITEOUT : null;
    }

    private static Found found(String path, Path file, String type, Map<String, Object> attributes,
            LayerMarks marks) throws IOException {
        String target = type.equals(Manifest.Entry.SYMLINK) ? Files.readSymbolicLink(file).toString() : null;
        long size = type.equals(Manifest.Entry.FILE) ? (Long) attributes.get("size") : 0;
        boolean opaque = marks != null && type.equals(Manifest.Entry.DIR) && marks.isOpaque(file);
        if (type.equals(Manifest.Entry.WHITEOUT)) {
            // only its name matters, and a restore makes it afresh: a layer's content ID must not
            // depend on when or by whom a file was deleted
            return new Found(path, file, type, 0, 0, 0, 0, 0, (Long) attributes.get("ino"), null, false);
        }
        return new Found(path, file, type, (Integer) attributes.get("mode") & 07777,
                (Integer) attributes.get("uid"), (Integer) attributes.get("gid"),
                ((FileTime) attributes.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                size, (Long) attributes.get("ino"), target, opaque);
    }
}
