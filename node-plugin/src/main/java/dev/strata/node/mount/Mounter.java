package dev.strata.node.mount;

import dev.strata.node.sys.LibC;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bind mounts and unmounts through mount(2) and umount2(2). Each call is logged like a command: what
 * was asked, and errno when it failed.
 */
public class Mounter {
    private static final Logger LOG = LoggerFactory.getLogger(Mounter.class);

    /**
     * Bind-mounts {@code source} on {@code target}, then applies the options. Flags like read-only
     * cannot be set by the bind itself: the kernel needs a second, remount call for them.
     */
    public void bind(Path source, Path target, BindOptions options) throws IOException {
        call("bind " + source + " " + target,
                LibC.get().mount(source.toString(), target.toString(), null, LibC.MS_BIND, null));
        if (options.flags() != 0) {
            int rc = LibC.get().mount(null, target.toString(), null,
                    LibC.MS_REMOUNT | LibC.MS_BIND | options.flags(), null);
            if (rc != 0) {
                int errno = LibC.errno();
                LibC.get().umount2(target.toString(), LibC.MNT_DETACH);
                throw failure("remount " + target + " flags=0x" + Long.toHexString(options.flags()), errno);
            }
            LOG.debug("mount(2) remount {} flags=0x{} ok", target, Long.toHexString(options.flags()));
        }
    }

    /** Mounts a filesystem, e.g. overlay with its lowerdir/upperdir/workdir {@code data}. */
    public void mount(String source, Path target, String fsType, long flags, String data) throws IOException {
        call(fsType + " " + source + " on " + target + " (" + data + ")",
                LibC.get().mount(source, target.toString(), fsType, flags, data));
    }

    /** Unmounts {@code target}; a path that is not a mount point, or does not exist, counts as done. */
    public void unmount(Path target) throws IOException {
        int rc = LibC.get().umount2(target.toString(), LibC.UMOUNT_NOFOLLOW);
        if (rc == 0) {
            LOG.debug("umount2(2) {} ok", target);
            return;
        }
        int errno = LibC.errno();
        if (errno == LibC.EINVAL || errno == LibC.ENOENT) {
            LOG.debug("umount2(2) {}: not mounted", target);
            return;
        }
        throw failure("umount " + target, errno);
    }

    /**
     * Detaches {@code target} at once (umount2 with MNT_DETACH): the filesystem is closed when its last
     * user goes. A path that is not a mount point counts as done.
     */
    public void detach(Path target) throws IOException {
        int rc = LibC.get().umount2(target.toString(), LibC.MNT_DETACH | LibC.UMOUNT_NOFOLLOW);
        if (rc != 0 && LibC.errno() != LibC.EINVAL && LibC.errno() != LibC.ENOENT) {
            throw failure("umount -l " + target, LibC.errno());
        }
        LOG.debug("umount2(2) detach {} ok", target);
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
