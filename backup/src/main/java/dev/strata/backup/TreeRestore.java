package dev.strata.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Writes a checked manifest's tree into an empty directory. Nothing is created through a link:
 * directories with createDirectory, files with CREATE_NEW and NOFOLLOW_LINKS, and the manifest
 * checks guarantee that every parent is a directory this restore made. Owners, modes and times are
 * set after the content, a directory's after everything inside it (writing a child changes the
 * directory's mtime; a read-only mode would stop the writes). An overlay layer's whiteouts and
 * opaque marks are made through {@link LayerMarks}, in directories this restore made.
 */
final class TreeRestore {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    /** Enough readers to keep both the disk (or the S3 server) and two cores busy. */
    private static final int READ_THREADS = 3;
    /** Chunks read ahead of the writer: at most this many times the largest chunk in memory. */
    private static final int READ_WINDOW = 6;

    private final ChunkStore store;
    private final int maxChunk;
    private final boolean chown;
    private final LayerMarks marks;

    /** {@code chown}: set owners, which only root may do; {@code marks}: restore a layer, else null. */
    TreeRestore(ChunkStore store, int maxChunk, boolean chown, LayerMarks marks) {
        this.store = store;
        this.maxChunk = maxChunk;
        this.chown = chown;
        this.marks = marks;
    }

    void restore(Manifest manifest, Path into) throws IOException {
        Path root = emptyDirectory(into);
        ManifestChecks.checkRestorable(manifest, maxChunk, marks != null);
        List<Manifest.Entry> directories = new ArrayList<>();
        try (ChunkPrefetch chunks = new ChunkPrefetch(store, ChunkPrefetch.inOrder(manifest.entries()),
                READ_THREADS, READ_WINDOW)) {
            writeEntries(manifest, root, chunks, directories);
        }
        // pre-order reversed: every directory after all it contains
        for (int i = directories.size() - 1; i >= 0; i--) {
            applyAttributes(inside(root, directories.get(i).path()), directories.get(i));
        }
    }

    private void writeEntries(Manifest manifest, Path root, ChunkPrefetch chunks, List<Manifest.Entry> directories)
            throws IOException {
        for (Manifest.Entry entry : manifest.entries()) {
            Path path = inside(root, entry.path());
            switch (entry.type()) {
                case Manifest.Entry.DIR -> {
                    if (!path.equals(root)) {
                        Files.createDirectory(path);
                    }
                    if (entry.opaque()) {
                        marks.makeOpaque(path);
                    }
                    directories.add(entry);
                }
                // nothing of a whiteout but its name matters to overlayfs (and a 0/0 device cannot be
                // opened to set its times): it stays as made
                case Manifest.Entry.WHITEOUT -> marks.makeWhiteout(path.getParent(), path.getFileName().toString());
                case Manifest.Entry.SYMLINK -> {
                    Files.createSymbolicLink(path, Path.of(entry.target()));
                    applyAttributes(path, entry);
                }
                default -> {
                    writeFile(path, entry, chunks);
                    applyAttributes(path, entry);
                }
            }
        }
    }

    private static Path emptyDirectory(Path into) throws IOException {
        if (into == null || !Files.isDirectory(into)) {
            throw new BackupException(BackupException.Kind.INVALID, "restore into " + into + ": not an existing directory");
        }
        Path root = into.toRealPath();
        try (Stream<Path> children = Files.list(root)) {
            if (children.findAny().isPresent()) {
                throw new BackupException(BackupException.Kind.INVALID, "restore into " + into + ": the directory is not empty");
            }
        }
        return root;
    }

    /** Defence in depth: the manifest checks already refuse every path that could leave the root. */
    private static Path inside(Path root, String path) throws BackupException {
        Path resolved = path.equals(".") ? root : root.resolve(path).normalize();
        if (!resolved.startsWith(root)) {
            throw new BackupException(BackupException.Kind.CORRUPT, "the path " + path + " leaves " + root);
        }
        return resolved;
    }

    private static void writeFile(Path path, Manifest.Entry entry, ChunkPrefetch chunks) throws IOException {
        // owner-only until the stored mode is applied: the content may be secret
        try (FileChannel channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE, NOFOLLOW), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            for (int i = 0; i < entry.chunks().size(); i++) {
                ByteBuffer content = chunks.next();
                while (content.hasRemaining()) {
                    channel.write(content);
                }
            }
        }
    }

    /** Owner first: chown clears the setuid and setgid bits, so the mode must come after it. */
    private void applyAttributes(Path path, Manifest.Entry entry) throws IOException {
        if (chown) {
            Files.setAttribute(path, "unix:uid", entry.uid(), NOFOLLOW);
            Files.setAttribute(path, "unix:gid", entry.gid(), NOFOLLOW);
        }
        if (!entry.type().equals(Manifest.Entry.SYMLINK)) {
            Files.setAttribute(path, "unix:mode", entry.mode(), NOFOLLOW);
        }
        FileTime mtime = FileTime.from(entry.mtimeNanos(), TimeUnit.NANOSECONDS);
        Files.getFileAttributeView(path, BasicFileAttributeView.class, NOFOLLOW).setTimes(mtime, mtime, null);
    }
}
