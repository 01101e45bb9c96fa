package dev.strata.node.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LibCTest {

    @Test
    void statvfsOfRootIsSane() throws IOException {
        LibC.StatVfs st = LibC.statvfs("/");
        assertNotNull(st);
        assertTrue(st.blockSize() > 0, st.toString());
        assertTrue(st.fragmentSize() > 0 && Long.bitCount(st.fragmentSize()) == 1, st.toString());
        assertTrue(st.blocks() > 0, st.toString());
        assertTrue(st.blocksFree() <= st.blocks() && st.blocksAvailable() <= st.blocksFree(), st.toString());
        assertTrue(st.files() > 0 && st.filesFree() <= st.files(), st.toString());
        assertTrue(st.totalBytes() >= st.availableBytes() && st.usedBytes() >= 0, st.toString());
        // the same figures as the JDK's view of the filesystem
        FileStore store = Files.getFileStore(Path.of("/"));
        assertEquals(store.getTotalSpace(), st.totalBytes());
        assertEquals(store.isReadOnly(), st.readOnly());
    }

    @Test
    void statvfsOfAMissingPathIsNull() {
        LibC.StatVfs proc = LibC.statvfs("/proc/sys");
        assertNotNull(proc);
        LibC.StatVfs missing = LibC.statvfs("/nonexistent/strata/path");
        assertNull(missing);
        assertEquals(LibC.ENOENT, LibC.errno());
    }

    @Test
    void describeNamesTheError() {
        assertEquals("No such file or directory (errno 2)", LibC.describe(LibC.ENOENT));
        assertTrue(LibC.describe(LibC.EINVAL).contains("Invalid argument"));
    }

    @Test
    void posixIsLoaded() {
        assertEquals(Posix.get().geteuid() == 0, Posix.isRoot());
        assertFalse(Posix.get().getpid() <= 0);
    }
}
