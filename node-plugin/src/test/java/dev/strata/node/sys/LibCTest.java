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
    void isRootAgreesWithTheUserName() {
        assertEquals("root".equals(System.getProperty("user.name")), Posix.isRoot());
    }

    @Test
    void chmodSetsSpecialBitsAndLchownLeavesLinkTargets(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createDirectory(tmp.resolve("d"));
        Posix.chmod(dir, 01770);
        assertEquals(01770, (int) java.nio.file.Files.getAttribute(dir, "unix:mode") & 07777);
        org.junit.jupiter.api.Assumptions.assumeTrue(Posix.isRoot(), "needs root: chown");
        java.nio.file.Path target = java.nio.file.Files.createFile(tmp.resolve("target"));
        java.nio.file.Path link = java.nio.file.Files.createSymbolicLink(tmp.resolve("link"), target);
        Posix.lchown(link, 4321, -1);
        assertEquals(4321, java.nio.file.Files.getAttribute(link, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, java.nio.file.Files.getAttribute(target, "unix:uid"));
    }
}
