package dev.strata.node.sys;

import dev.strata.common.model.VolumeUsage;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;

/**
 * The few libc calls Strata makes on paths: mount(2), umount2(2) and statvfs(3). Bind mounts are on
 * every publish path, and a system call costs microseconds where spawning mount(8) costs
 * milliseconds of fork and exec. Calls relative to a directory are {@link FileHandle}'s.
 */
public final class LibC {
    /** Mount flags from linux/mount.h. */
    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_SYNCHRONOUS = 16;
    public static final long MS_REMOUNT = 32;
    public static final long MS_DIRSYNC = 128;
    public static final long MS_NOATIME = 1024;
    public static final long MS_NODIRATIME = 2048;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_RELATIME = 1 << 21;
    public static final long MS_STRICTATIME = 1 << 24;
    public static final int MNT_DETACH = 2;
    public static final int UMOUNT_NOFOLLOW = 8;
    public static final int EINVAL = 22;
    public static final int ENOENT = 2;
    public static final int EBUSY = 16;
    public static final long ST_RDONLY = 1;
    public static final int ENODATA = 61;

    /** jnr-ffi binding; names and signatures are libc's. */
    public interface Native {
        int mount(String source, String target, String fstype, long flags, String data);

        int umount2(String target, int flags);

        int statvfs(String path, @Out Pointer buf);

        String strerror(int errnum);
    }

    /** struct statvfs on 64-bit Linux: eleven 8-byte fields and six ints of padding. */
    private static final int STATVFS_SIZE = 112;

    private static final Native NATIVE = LibraryLoader.create(Native.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(NATIVE);

    private LibC() {}

    public static Native get() {
        return NATIVE;
    }

    public static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    public static String describe(int errno) {
        return NATIVE.strerror(errno) + " (errno " + errno + ")";
    }

    /** statvfs(3), or null with errno set. */
    public static StatVfs statvfs(String path) {
        Pointer buf = RUNTIME.getMemoryManager().allocateDirect(STATVFS_SIZE);
        if (NATIVE.statvfs(path, buf) != 0) {
            return null;
        }
        long frsize = buf.getLong(8);
        return new StatVfs(buf.getLong(0), frsize, buf.getLong(16), buf.getLong(24), buf.getLong(32),
                buf.getLong(40), buf.getLong(48), buf.getLong(72));
    }

    /** statvfs(3) of a path that must be there; an IOException naming the error otherwise. */
    public static StatVfs statvfs(java.nio.file.Path path) throws java.io.IOException {
        StatVfs st = statvfs(path.toString());
        if (st == null) {
            throw new java.io.IOException("statvfs " + path + ": " + describe(errno()));
        }
        return st;
    }

    /** The fields of struct statvfs that Strata reads. Block counts are in units of {@code fragmentSize}. */
    public record StatVfs(long blockSize, long fragmentSize, long blocks, long blocksFree, long blocksAvailable,
            long files, long filesFree, long flags) {
        public long totalBytes() {
            return blocks * fragmentSize;
        }

        public long availableBytes() {
            return blocksAvailable * fragmentSize;
        }

        public long usedBytes() {
            return (blocks - blocksFree) * fragmentSize;
        }

        /** The figures NodeGetVolumeStats reports: bytes and inodes. */
        public VolumeUsage usage() {
            return new VolumeUsage(totalBytes(), usedBytes(), availableBytes(), files, files - filesFree, filesFree);
        }

        public boolean readOnly() {
            return (flags & ST_RDONLY) != 0;
        }
    }
}
