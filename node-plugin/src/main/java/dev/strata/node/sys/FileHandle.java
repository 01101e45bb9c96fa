package dev.strata.node.sys;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;

/**
 * An open file descriptor that pins one file or directory. A path is looked up again at every use,
 * so a tenant who swaps a directory for a symbolic link between a check and the use redirects the
 * use; a descriptor does not move. Strata resolves anything a tenant can touch once, into a handle
 * ({@link PathWalk}), and then works through the handle: {@code *at} calls relative to it, and
 * mounts from and onto {@link #procPath()} (a tool is shown a handle's directory through a bind
 * mount made that way).
 *
 * <p>Handles are {@code O_PATH} unless opened otherwise: they read nothing and grant nothing, they
 * only name. Every descriptor is close-on-exec.
 */
public final class FileHandle implements AutoCloseable {
    /** The kernel's own file flags: O_PATH and O_CLOEXEC are the same on every architecture. */
    static final int O_RDONLY = 0;
    static final int O_PATH = 010000000;
    static final int O_CLOEXEC = 02000000;
    static final int O_WRONLY = 1;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOFOLLOW = Arch.AARCH64 ? 0100000 : 0400000;
    static final int O_DIRECTORY = Arch.AARCH64 ? 040000 : 0200000;
    /** {@link #beneath} flags for a directory to read (list, xattrs) rather than an O_PATH handle. */
    public static final int READ_DIRECTORY = O_RDONLY | O_DIRECTORY;
    static final int AT_FDCWD = -100;
    static final int AT_EMPTY_PATH = 0x1000;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int AT_REMOVEDIR = 0x200;
    static final int RENAME_NOREPLACE = 1;
    /** openat2(2) resolve flags. */
    static final long RESOLVE_NO_MAGICLINKS = 0x02;
    static final long RESOLVE_NO_SYMLINKS = 0x04;
    static final long RESOLVE_BENEATH = 0x08;
    /** openat2 has the same number on every architecture (it came after the numbers were unified). */
    private static final long SYS_OPENAT2 = 437;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final long STATX_ATTR_MOUNT_ROOT = 0x2000;
    private static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;
    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;

    /** jnr-ffi binding of the {@code *at} family; names and signatures are libc's. */
    public interface Native {
        int openat(int dirfd, String path, int flags, int mode);

        long syscall(long number, long dirfd, String path, Pointer how, long size);

        int close(int fd);

        int mkdirat(int dirfd, String path, int mode);

        int mknodat(int dirfd, String path, int mode, long dev);

        int renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);

        int unlinkat(int dirfd, String path, int flags);

        int fremovexattr(int fd, String name);

        int statx(int dirfd, String path, int flags, int mask, @Out Pointer buf);

        long readlinkat(int dirfd, String path, @Out byte[] buf, long size);

        long fgetxattr(int fd, String name, @Out byte[] value, long size);

        int fsetxattr(int fd, String name, byte[] value, long size, int flags);

        int umask(int mask);

        int syncfs(int fd);

        int fsync(int fd);
    }

    private static final Native NATIVE = LibraryLoader.create(Native.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(NATIVE);

    private final int fd;
    /** What the handle was opened as, for messages: the path given, not the one it resolves to now. */
    private final String name;
    private boolean closed;

    private FileHandle(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /**
     * A handle on a path the admin configured (the data directory, a hostpath root): its symbolic
     * links are followed, as the admin meant them to be.
     */
    public static FileHandle open(Path absolute) throws IOException {
        int fd = NATIVE.openat(AT_FDCWD, absolute.toString(), O_PATH | O_CLOEXEC, 0);
        return checked(fd, "open", absolute.toString());
    }

    /**
     * The file or directory at {@code relative} below this directory, without following a
     * symbolic link anywhere on the way and without leaving it ({@code openat2} with
     * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); a link there is {@link SymbolicLinkException}.
     * {@code flags} 0 gives an O_PATH handle.
     */
    public FileHandle beneath(String relative, int flags) throws IOException {
        Pointer how = Memory.allocateDirect(RUNTIME, 24);
        how.putLong(0, (flags == 0 ? O_PATH : flags) | O_NOFOLLOW | O_CLOEXEC);
        how.putLong(8, 0);
        how.putLong(16, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        String path = relative.isEmpty() ? "." : relative;
        long rc = NATIVE.syscall(SYS_OPENAT2, fd, path, how, 24);
        FileHandle opened = checked((int) rc, "openat2", name + "/" + relative);
        // O_PATH with O_NOFOLLOW opens a trailing link itself rather than failing: refuse it here too.
        if (opened.stat().isSymbolicLink()) {
            opened.close();
            throw new SymbolicLinkException(name + "/" + relative, "openat2: the last component is a symbolic link");
        }
        return opened;
    }

    /** The entry {@code child} of this directory, itself (a symbolic link is not followed). */
    public FileHandle child(String child) throws IOException {
        requireName(child);
        return checked(NATIVE.openat(fd, child, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0), "openat", name + "/" + child);
    }

    /** This directory opened for reading (the xattr calls need more than an O_PATH descriptor). */
    public FileHandle readable() throws IOException {
        return checked(NATIVE.openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), "openat", name);
    }

    /** Creates the directory {@code child} with exactly {@code mode} (the umask is not applied after). */
    public void mkdir(String child, int mode) throws IOException {
        requireName(child);
        check(NATIVE.mkdirat(fd, child, mode), "mkdirat", name + "/" + child);
        chmodChild(child, mode);
    }

    /** Creates the empty file {@code child} (never through a link, never over an entry) with {@code mode}. */
    public void createFile(String child, int mode) throws IOException {
        requireName(child);
        int created = NATIVE.openat(fd, child, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
        if (created < 0) {
            throw failure("openat O_CREAT", name + "/" + child, errno());
        }
        NATIVE.close(created);
        chmodChild(child, mode);
    }

    /** Makes an overlayfs whiteout (a character device 0/0) named {@code child} in this directory. */
    public void whiteout(String child) throws IOException {
        requireName(child);
        check(NATIVE.mknodat(fd, child, S_IFCHR, 0), "mknodat", name + "/" + child);
    }

    /** Renames {@code child} of this directory to {@code newName} in {@code target}, never over an entry. */
    public void rename(String child, FileHandle target, String newName) throws IOException {
        requireName(child);
        requireName(newName);
        check(NATIVE.renameat2(fd, child, target.fd, newName, RENAME_NOREPLACE), "renameat2",
                name + "/" + child + " -> " + target.name + "/" + newName);
    }

    /** Removes the empty directory {@code child}, or the file when {@code directory} is false. */
    public void remove(String child, boolean directory) throws IOException {
        requireName(child);
        check(NATIVE.unlinkat(fd, child, directory ? AT_REMOVEDIR : 0), "unlinkat", name + "/" + child);
    }

    /** Removes the extended attribute from this (readable) descriptor's file, if it is set. */
    public void removeXattr(String attribute) throws IOException {
        if (NATIVE.fremovexattr(fd, attribute) != 0 && errno() != LibC.ENODATA) {
            throw failure("fremovexattr " + attribute, name, errno());
        }
    }

    /** Sets the extended attribute on this (readable) descriptor's file. */
    public void setXattr(String attribute, byte[] value) throws IOException {
        check(NATIVE.fsetxattr(fd, attribute, value, value.length, 0), "fsetxattr " + attribute, name);
    }

    /** Sets all twelve mode bits of the file this handle names. */
    public void chmod(int mode) throws IOException {
        Files.setAttribute(procPath(), "unix:mode", mode);
    }

    private void chmodChild(String child, int mode) throws IOException {
        try (FileHandle created = child(child)) {
            created.chmod(mode);
        }
    }

    /** What this handle names, as lstat(2) would say; a symbolic link is described, not followed. */
    public Stat stat() throws IOException {
        Pointer buf = Memory.allocateDirect(RUNTIME, 256);
        check(NATIVE.statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buf), "statx", name);
        return new Stat(buf.getShort(28) & 0xffff, buf.getInt(20), buf.getInt(24),
                (buf.getLong(8) & STATX_ATTR_MOUNT_ROOT) != 0,
                buf.getLong(96) * 1_000_000_000L + (buf.getInt(104) & 0xffffffffL),
                buf.getInt(128) != 0 || buf.getInt(132) != 0);
    }

    /** The names in this (readable or O_PATH) directory, read through the handle, not a path. */
    public java.util.List<String> list() throws IOException {
        java.util.List<String> names = new java.util.ArrayList<>();
        try (var entries = Files.newDirectoryStream(procPath())) {
            entries.forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    /** Whether this (readable) descriptor's file has the extended attribute {@code attribute}. */
    public boolean hasXattr(String attribute) throws IOException {
        if (NATIVE.fgetxattr(fd, attribute, new byte[16], 16) >= 0) {
            return true;
        }
        int errno = errno();
        if (errno == LibC.ENODATA || errno == 95 /* EOPNOTSUPP */ || errno == 34 /* ERANGE: set, longer */) {
            return errno == 34;
        }
        throw failure("fgetxattr " + attribute, name, errno);
    }

    /** The target of the symbolic link {@code child} of this directory. */
    public String readLink(String child) throws IOException {
        byte[] buf = new byte[4096];
        long n = NATIVE.readlinkat(fd, child, buf, buf.length);
        if (n < 0) {
            throw failure("readlinkat", name + "/" + child, errno());
        }
        return new String(buf, 0, (int) n, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The path that reaches exactly this file in this process: a mount source or target, a stat. */
    public Path procPath() {
        return Path.of("/proc/self/fd/" + fd);
    }


    /** Where the file is now, as the kernel names it (for messages and comparisons, never for a use). */
    public Path realPath() throws IOException {
        return Files.readSymbolicLink(procPath());
    }

    /** What the handle was opened as. */
    public String name() {
        return name;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            NATIVE.close(fd);
        }
    }

    /** fsync(2) of this (readable) descriptor: a directory's entries, a file's data, a device's cache. */
    public void sync() throws IOException {
        check(NATIVE.fsync(fd), "fsync", name);
    }

    /**
     * Writes back everything of the filesystem that holds {@code path} (syncfs(2)): what a copy put
     * there, however many files, in one call.
     */
    public static void syncFilesystem(Path path) throws IOException {
        int fd = NATIVE.openat(AT_FDCWD, path.toString(), O_RDONLY | O_CLOEXEC, 0);
        try (FileHandle h = checked(fd, "open", path.toString())) {
            check(NATIVE.syncfs(h.fd), "syncfs", path.toString());
        }
    }

    /** Sets the process's file mode creation mask; returns the previous one. */
    public static int umask(int mask) {
        return NATIVE.umask(mask);
    }

    /**
     * The type, owner and permission bits of a file, whether it is the root of a mount, its change
     * time, and (for a device) whether its number is anything but 0/0.
     */
    public record Stat(int mode, int uid, int gid, boolean mountRoot, long ctimeNanos, boolean deviceNumber) {
        public boolean isDirectory() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        public boolean isRegularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }

        public boolean isSymbolicLink() {
            return (mode & S_IFMT) == S_IFLNK;
        }

        public boolean isCharacterDevice() {
            return (mode & S_IFMT) == S_IFCHR;
        }

        public boolean isDevice() {
            return (mode & S_IFMT) == S_IFCHR || (mode & S_IFMT) == S_IFBLK;
        }

        public int permissions() {
            return mode & 07777;
        }
    }

    /** A single path component: no '/', not '.' or '..', not empty. */
    static void requireName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a single path component: \"" + name + "\"");
        }
    }

    static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    private static FileHandle checked(int fd, String call, String what) throws IOException {
        if (fd < 0) {
            throw failure(call, what, errno());
        }
        return new FileHandle(fd, what);
    }

    private static void check(int rc, String call, String what) throws IOException {
        if (rc != 0) {
            throw failure(call, what, errno());
        }
    }

    /** The errno as the java.nio exception a caller would get for the same failure of a path call. */
    static IOException failure(String call, String what, int errno) {
        String reason = LibC.describe(errno);
        return switch (errno) {
            case LibC.ENOENT -> new NoSuchFileException(what, null, call + ": " + reason);
            case ELOOP, EXDEV -> new SymbolicLinkException(what, call + ": " + reason);
            case ENOTDIR -> new java.nio.file.NotDirectoryException(what + ": " + call + ": " + reason);
            default -> new FileSystemException(what, null, call + ": " + reason);
        };
    }

    static final int ELOOP = 40;
    static final int EXDEV = 18;
    static final int ENOTDIR = 20;

    /**
     * A symbolic link (or a way out of the starting directory) where none may be: openat2 refused to
     * follow it, or O_NOFOLLOW found one at the last component.
     */
    public static final class SymbolicLinkException extends FileSystemException {
        SymbolicLinkException(String file, String reason) {
            super(file, null, reason);
        }
    }

    /** The architecture, for the few flags whose values differ. */
    private static final class Arch {
        static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    }
}
