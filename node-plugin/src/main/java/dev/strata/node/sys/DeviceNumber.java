package dev.strata.node.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** A block device's number, {@code MAJOR:MINOR}, as the kernel's cgroup files name devices. */
public record DeviceNumber(int major, int minor) {
    /** The device a block special file stands for (its {@code st_rdev}). */
    public static DeviceNumber ofDevice(Path node) throws IOException {
        if (!Files.isRegularFile(node) && !Files.isDirectory(node) && Files.exists(node)) {
            return decode((Long) Files.getAttribute(node, "unix:rdev"));
        }
        throw new IOException(node + " is not a device node");
    }

    /** The device holding the filesystem {@code path} is on (its {@code st_dev}). */
    public static DeviceNumber ofFilesystem(Path path) throws IOException {
        return decode((Long) Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS));
    }

    /** glibc's gnu_dev_major and gnu_dev_minor: 12 bits of major and 20 of minor, split in two. */
    static DeviceNumber decode(long dev) {
        int major = (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
        int minor = (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
        return new DeviceNumber(major, minor);
    }

    /** Whether it is a real block device, not an anonymous one (overlay, tmpfs, proc have major 0). */
    public boolean isBlock() {
        return major != 0;
    }

    @Override
    public String toString() {
        return major + ":" + minor;
    }
}
