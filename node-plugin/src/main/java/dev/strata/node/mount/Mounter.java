package dev.strata.node.mount;

import dev.strata.node.sys.FileHandle;
import dev.strata.node.sys.LibC;
import dev.strata.node.sys.PathWalk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mounts and unmounts through mount(2) and umount2(2), never through a path that could be swapped
 * between a check and the call: targets are {@link MountPoint}s (the entry's handle for the mount,
 * its pinned directory afterwards), and bind sources are handles too. A {@link Path} given here is
 * resolved by {@link PathWalk} first. Each call is logged like a command: what was asked, and errno
 * when it failed.
 */
public class Mounter {
    private static final Logger LOG = LoggerFactory.getLogger(Mounter.class);
    /** How often an unmount is tried while the mount is busy: 20 ms more each time, 0.9 s in all. */
    private static final int BUSY_ATTEMPTS = 10;

    /**
     * Bind-mounts {@code source} on {@code target} (an existing directory or file, not a link), then
     * applies the options. Flags like read-only cannot be set by the bind itself: the kernel needs a
     * second, remount call for them.
     */
    public void bind(FileHandle source, MountPoint target, BindOptions options) throws IOException {
        try (FileHandle entry = requireEntry(target)) {
            call("bind " + source.name() + " " + target.path(), LibC.get().mount(source.procPath().toString(),
                    entry.procPath().toString(), null, LibC.MS_BIND, null));
        }
        if (options.flags() != 0) {
            int rc = LibC.get().mount(null, target.viaParent(), null, LibC.MS_REMOUNT | LibC.MS_BIND | options.flags(),
                    null);
            if (rc != 0) {
                int errno = LibC.errno();
                LibC.get().umount2(target.viaParent(), LibC.MNT_DETACH | LibC.UMOUNT_NOFOLLOW);
                throw failure("remount " + target.path() + " flags=0x" + Long.toHexString(options.flags()), errno);
            }
            LOG.debug("mount(2) remount {} flags=0x{} ok", target.path(), Long.toHexString(options.flags()));
        }
    }

    /** As {@link #bind(FileHandle, MountPoint, BindOptions)}, both paths resolved by {@link PathWalk}. */
    public void bind(Path source, Path target, BindOptions options) throws IOException {
        try (FileHandle from = PathWalk.open(source, false); MountPoint to = MountPoint.at(target)) {
            bind(from, to, options);
        }
    }

    /** Mounts a filesystem, e.g. overlay with its lowerdir/upperdir/workdir {@code data}. */
    public void mount(String source, MountPoint target, String fsType, long flags, String data) throws IOException {
        try (FileHandle entry = requireEntry(target)) {
            call(fsType + " " + source + " on " + target.path() + " (" + data + ")",
                    LibC.get().mount(source, entry.procPath().toString(), fsType, flags, data));
        }
    }

    public void mount(String source, Path target, String fsType, long flags, String data) throws IOException {
        try (MountPoint to = MountPoint.at(target)) {
            mount(source, to, fsType, flags, data);
        }
    }

    /**
     * Unmounts the topmost mount at {@code target}; a path that is not a mount point, or does not
     * exist, counts as done. Whether something else is still mounted there is the caller's to check.
     */
    public void unmount(MountPoint target) throws IOException {
        for (int attempt = 1; ; attempt++) {
            int rc = LibC.get().umount2(target.viaParent(), LibC.UMOUNT_NOFOLLOW);
            if (rc == 0) {
                LOG.debug("umount2(2) {} ok", target.path());
                return;
            }
            int errno = LibC.errno();
            if (errno == LibC.EINVAL || errno == LibC.ENOENT) {
                LOG.debug("umount2(2) {}: not mounted", target.path());
                return;
            }
            // A process this JVM forks (Trash's rm, any command) holds a copy of every descriptor the
            // JVM had open, ours into this mount included, until it execs and the close-on-exec ones
            // go: the mount is busy for that moment. A mount that stays busy is in use, and fails.
            if (errno != LibC.EBUSY || attempt == BUSY_ATTEMPTS) {
                throw failure("umount " + target.path(), errno);
            }
            LOG.debug("umount2(2) {}: busy, attempt {}", target.path(), attempt);
            pause(attempt * 20L);
        }
    }

    private static void pause(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting to unmount");
        }
    }

    public void unmount(Path target) throws IOException {
        try (MountPoint at = openIfThere(target)) {
            if (at != null) {
                unmount(at);
            }
        }
    }

    /**
     * Detaches {@code target} at once (umount2 with MNT_DETACH): the filesystem is closed when its last
     * user goes. A path that is not a mount point counts as done.
     */
    public void detach(Path target) throws IOException {
        try (MountPoint at = openIfThere(target)) {
            if (at == null) {
                return;
            }
            int rc = LibC.get().umount2(at.viaParent(), LibC.MNT_DETACH | LibC.UMOUNT_NOFOLLOW);
            if (rc != 0 && LibC.errno() != LibC.EINVAL && LibC.errno() != LibC.ENOENT) {
                throw failure("umount -l " + target, LibC.errno());
            }
        }
        LOG.debug("umount2(2) detach {} ok", target);
    }

    /**
     * Detaches every mount at or below {@code dir}, found by its real path (the mount table names
     * real paths); nothing when {@code dir} is not there.
     */
    public void detachAllUnder(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        for (Path mount : MountTable.read().under(dir.toRealPath())) {
            detach(mount);
        }
    }

    /**
     * At a start: empties a scratch directory of an engine's own (brief mounts made in it, one
     * directory each) of the mounts and the directories a crash left there.
     */
    public void clearScratch(Path dir) throws IOException {
        detachAllUnder(dir);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var left = Files.list(dir)) {
            for (Path p : left.toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The mount point, or null when its directory is gone (then nothing can be mounted there). */
    private static MountPoint openIfThere(Path target) throws IOException {
        try {
            return MountPoint.at(target);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** The entry a mount goes onto: there, and a directory or a file, never a link (which would be followed). */
    private static FileHandle requireEntry(MountPoint target) throws IOException {
        FileHandle entry = target.entry();
        FileHandle.Stat stat = entry.stat();
        if (!stat.isDirectory() && !stat.isRegularFile()) {
            entry.close();
            throw new IOException("mount point " + target.path() + " is neither a directory nor a file");
        }
        return entry;
    }

    private static void call(String what, int rc) throws IOException {
        if (rc != 0) {
            throw failure(what, LibC.errno());
        }
        LOG.debug("mount(2) {} ok", what);
    }

    private static IOException failure(String what, int errno) {
        String message = what + " failed: " + LibC.describe(errno);
        LOG.warn(message);
        return new IOException(message);
    }
}
