package dev.strata.node.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Ownership and permission calls, made through java.nio's "unix" attribute view: it sets the full
 * mode (setuid, setgid and sticky bits too) and, without following links, the owner.
 */
public final class Posix {
    private static final boolean ROOT = effectiveUid() == 0;

    private Posix() {}

    public static boolean isRoot() {
        return ROOT;
    }

    /** capabilities(7) number of CAP_SYS_RESOURCE, which growing a mounted ext4 filesystem needs. */
    public static final int CAP_SYS_RESOURCE = 24;

    /** Whether this process has the capability in its effective set (/proc/self/status, CapEff). */
    public static boolean hasCapability(int capability) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << capability)) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    /** chmod(2) with all twelve mode bits. */
    public static void chmod(Path path, int mode) throws IOException {
        Files.setAttribute(path, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    /** lchown(2); -1 leaves that ID as it is. */
    public static void lchown(Path path, int uid, int gid) throws IOException {
        if (uid >= 0) {
            Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        }
        if (gid >= 0) {
            Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        }
    }

    /** The effective UID, the second field of the Uid line of /proc/self/status. */
    private static long effectiveUid() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : lines) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.split("\\s+")[2]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: not Linux, or /proc is not mounted; assume not root
        }
        return -1;
    }
}
