package dev.strata.node.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceNumberTest {
    @Test
    void decodesGlibcsSplitEncoding() {
        assertEquals(new DeviceNumber(7, 3), DeviceNumber.decode(0x0703));
        assertEquals(new DeviceNumber(253, 0), DeviceNumber.decode(0xfd00));
        // Minors above 255 and majors above 4095 live in the high bits.
        assertEquals(new DeviceNumber(259, 65536), DeviceNumber.decode((0x10000L & 0xffffff00L) << 12 | 259L << 8));
        assertEquals("7:3", new DeviceNumber(7, 3).toString());
    }

    @Test
    void readsDeviceNodesAndFilesystems(@TempDir Path tmp) throws IOException {
        assertEquals(new DeviceNumber(1, 3), DeviceNumber.ofDevice(Path.of("/dev/null")), "a character device");
        assertThrows(IOException.class, () -> DeviceNumber.ofDevice(tmp));
        DeviceNumber proc = DeviceNumber.ofFilesystem(Path.of("/proc/self"));
        assertFalse(proc.isBlock(), "proc is an anonymous device: " + proc);
        assertTrue(new DeviceNumber(7, 0).isBlock());
    }
}
