package dev.strata.backup;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A {@link BackupTarget} on a local (or mounted network) directory: each key is a file at that
 * relative path. Every write goes through {@link AtomicFile}, so a crash leaves at worst a temporary
 * file, which {@link #list} never shows.
 */
public final class FileTarget implements BackupTarget {
    private static final String SCHEME = "file://";
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    /** The longest file name Linux filesystems take (NAME_MAX): a longer segment names no directory. */
    private static final int MAX_NAME_BYTES = 255;
    private static final CommandRunner RUNNER = new CommandRunner();

    private final String url;
    private final Path dir;

    private FileTarget(String url, Path dir) {
        this.url = url;
        this.dir = dir;
    }

    /**
     * Opens {@code file:///absolute/dir}. Nothing is written: a missing directory is made by the first
     * put (a restore or a listing of a target that names no directory leaves none behind), but a path
     * that no directory can ever be made at is refused now, as a bad URL, not later as a failed write.
     */
    static FileTarget open(String url) throws IOException {
        Path dir = Path.of(directoryOf(url));
        for (Path at = dir; at != null; at = at.getParent()) {
            if (Files.exists(at)) {
                if (!Files.isDirectory(at)) {
                    throw new BackupException(BackupException.Kind.INVALID, "backup target " + url + " is not a "
                            + "directory: " + at + " is a file");
                }
                break;
            }
        }
        return new FileTarget(url, dir);
    }

    private static String directoryOf(String url) throws BackupException {
        if (url == null || !url.startsWith(SCHEME + "/")) {
            throw invalidUrl(url);
        }
        String path = url.substring(SCHEME.length());
        // '%', '?' and '#' would mean something else to a URL parser: refuse rather than guess.
        if (path.indexOf('\0') >= 0 || path.indexOf('%') >= 0 || path.indexOf('?') >= 0 || path.indexOf('#') >= 0) {
            throw invalidUrl(url);
        }
        for (String segment : path.split("/")) {
            if (segment.equals(".") || segment.equals("..")
                    || segment.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw invalidUrl(url);
            }
        }
        return path;
    }

    private static BackupException invalidUrl(String url) {
        return new BackupException(BackupException.Kind.INVALID, "invalid backup target URL '" + url
                + "': expected file:///absolute/dir (no '.' or '..' segments, none over " + MAX_NAME_BYTES + " bytes)");
    }

    @Override
    public String url() {
        return url;
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        Path file = resolve(key);
        createParents(file.getParent());
        AtomicFile.writeShared(file, data, AtomicFile.Durability.SYNCED);
    }

    @Override
    public void putBuffered(String key, ByteBuffer data) throws IOException {
        Path file = resolve(key);
        createParents(file.getParent());
        AtomicFile.writeShared(file, data, AtomicFile.Durability.CRASH_ONLY);
    }

    /**
     * One syncfs(2) of the target's filesystem (coreutils' {@code sync -f}; the JDK has no call for
     * it): every file, rename and directory written since is on disk when it returns.
     */
    @Override
    public void flush() throws IOException {
        CommandRunner.Result r = RUNNER.run("sync", "-f", "--", dir.toString());
        if (!r.ok()) {
            throw new IOException("could not sync the backup target " + url + ": " + r.failure());
        }
    }

    /** Buffered puts may be torn by a power cut until their flush: an orphan is not to be trusted. */
    @Override
    public boolean orphansAreWhole() {
        return false;
    }

    /** Exclusive through a hard link: of two racing writers exactly one creates the key. */
    @Override
    public boolean putIfAbsent(String key, byte[] data) throws IOException {
        Path file = resolve(key);
        createParents(file.getParent());
        Path staged = file.resolveSibling("." + file.getFileName() + "-" + UUID.randomUUID() + ".tmp");
        try {
            AtomicFile.write(staged, data);
            Files.createLink(file, staged);
            AtomicFile.syncDirectory(file.getParent());
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    /** Temporary files of writes that a crash cut off: no host writes to them any more. */
    @Override
    public void sweepInterrupted(Instant before) throws IOException {
        walkFiles(dir, (file, attrs) -> {
            if (AtomicFile.isTemporary(file.getFileName().toString())
                    && attrs.lastModifiedTime().toInstant().isBefore(before)) {
                Files.deleteIfExists(file);
            }
        });
    }

    @Override
    public byte[] get(String key) throws IOException {
        return Files.readAllBytes(resolve(key));
    }

    @Override
    public ByteBuffer get(String key, byte[] reuse) throws IOException {
        try (FileChannel channel = FileChannel.open(resolve(key), StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE - 8) {
                throw new IOException(key + ": " + size + " bytes, too many to read whole");
            }
            // a new array only when the caller's is too small, read from the file already open
            byte[] array = size <= reuse.length ? reuse : new byte[(int) size];
            ByteBuffer into = ByteBuffer.wrap(array, 0, (int) size);
            while (into.hasRemaining() && channel.read(into) >= 0) {
                // an object is written whole before it is renamed into place: it does not change
            }
            return into.flip();
        }
    }

    @Override
    public ByteBuffer getRange(String key, long offset, int length, byte[] reuse) throws IOException {
        try (FileChannel channel = FileChannel.open(resolve(key), StandardOpenOption.READ)) {
            byte[] array = length <= reuse.length ? reuse : new byte[length];
            ByteBuffer into = ByteBuffer.wrap(array, 0, length);
            long position = offset;
            while (into.hasRemaining()) {
                int read = channel.read(into, position);
                if (read < 0) {
                    throw new EOFException(key + " ends at " + position + ", before " + offset + "+" + length);
                }
                position += read;
            }
            return into.flip();
        }
    }

    @Override
    public boolean exists(String key) throws IOException {
        return Files.isRegularFile(resolve(key), NOFOLLOW);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return List.copyOf(listWithSizes(prefix).keySet());
    }

    @Override
    public SortedMap<String, Long> listWithSizes(String prefix) throws IOException {
        TargetKeys.checkPrefix(prefix);
        int slash = prefix.lastIndexOf('/');
        Path base = slash < 0 ? dir : dir.resolve(prefix.substring(0, slash));
        SortedMap<String, Long> keys = new TreeMap<>();
        if (!Files.isDirectory(base, NOFOLLOW)) {
            return keys;
        }
        walkFiles(base, (file, attrs) -> {
            String key = dir.relativize(file).toString();
            if (!AtomicFile.isTemporary(file.getFileName().toString()) && key.startsWith(prefix)
                    && TargetKeys.isValid(key)) {
                keys.put(key, attrs.size());
            }
        });
        return keys;
    }

    /** A regular file met in a walk, with its attributes as the walk read them. */
    @FunctionalInterface
    private interface FileVisit {
        void visit(Path file, BasicFileAttributes attrs) throws IOException;
    }

    /**
     * Visits every regular file under {@code base}. Other hosts write and delete in the same
     * directories (a rename into place, a prune): an entry that vanishes between the directory read
     * and its stat is skipped, not an error that would fail the walk.
     */
    private static void walkFiles(Path base, FileVisit visit) throws IOException {
        Files.walkFileTree(base, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    visit.visit(file, attrs);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
    }

    @Override
    public Instant modified(String key) throws IOException {
        return Files.getLastModifiedTime(resolve(key), NOFOLLOW).toInstant();
    }

    @Override
    public long size(String key) throws IOException {
        return Files.size(resolve(key));
    }

    @Override
    public void delete(String key) throws IOException {
        Files.deleteIfExists(resolve(key));
    }

    @Override
    public String toString() {
        return url;
    }

    private Path resolve(String key) throws BackupException {
        return dir.resolve(TargetKeys.checkKey(key));
    }

    /**
     * A new directory is durable only once the directory holding it is synced. The target's own
     * directory and those above it are made here too, by the first put ({@link #open} makes none).
     */
    private void createParents(Path parent) throws IOException {
        if (Files.isDirectory(parent)) {
            return;
        }
        if (parent.equals(dir)) {
            Files.createDirectories(dir);
            AtomicFile.syncDirectory(dir.getParent());
            return;
        }
        createParents(parent.getParent());
        try {
            Files.createDirectory(parent);
        } catch (FileAlreadyExistsException e) {
            // a racing writer made it; syncing again costs little and does not depend on it having synced
        }
        AtomicFile.syncDirectory(parent.getParent());
    }
}
