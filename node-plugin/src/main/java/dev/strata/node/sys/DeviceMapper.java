package dev.strata.node.sys;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Whether the kernel has device-mapper, which the thin engine needs. */
public final class DeviceMapper {
    /** The driver's control node. */
    public static final Path CONTROL = Path.of("/dev/mapper/control");

    private DeviceMapper() {}

    /**
     * Whether {@code control} opens. The node alone proves nothing: libdevmapper (dmsetup, cryptsetup)
     * makes it, at the usual 10:236, wherever it is missing, also on a kernel without the driver,
     * where opening it fails with ENODEV. Opening it changes nothing (it may load a modular driver, as
     * any use of the node would).
     */
    public static boolean opens(Path control) {
        if (!Files.exists(control)) {
            return false;
        }
        try (FileChannel ignored = FileChannel.open(control, StandardOpenOption.READ)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether this kernel's device-mapper answers at {@link #CONTROL}. */
    public static boolean available() {
        return opens(CONTROL);
    }
}
