package dev.strata.node.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handles pin what was resolved: nothing below a root is reached through a link, and nothing above it at all. */
class FileHandleTest {
    @TempDir
    Path tmp;
    Path root;
    Path outside;

    @BeforeEach
    void tree() throws IOException {
        root = Files.createDirectories(tmp.resolve("root/a/b"));
        root = tmp.resolve("root");
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host secret");
        Files.createSymbolicLink(root.resolve("a/link"), outside);
        Files.createSymbolicLink(root.resolve("relative"), Path.of("a/b"));
    }

    @Test
    void beneathOpensPlainPathsBelowTheRoot() throws IOException {
        try (FileHandle r = FileHandle.open(root); FileHandle b = r.beneath("a/b", 0)) {
            assertEquals(root.resolve("a/b").toRealPath(), b.realPath());
            assertTrue(b.stat().isDirectory());
        }
    }

    @Test
    void beneathRefusesEveryLinkAndEveryWayOut() throws IOException {
        try (FileHandle r = FileHandle.open(root)) {
            for (String path : new String[] {"a/link", "a/link/secret", "relative", "relative/../a", "..",
                    "a/../../outside", "/etc", tmp.resolve("outside").toString()}) {
                assertThrows(FileHandle.SymbolicLinkException.class, () -> r.beneath(path, 0).close(), path);
            }
            assertThrows(NoSuchFileException.class, () -> r.beneath("a/missing", 0));
        }
    }

    @Test
    void directoryOperationsActOnTheEntryNamedNotOnWhatALinkNames() throws IOException {
        try (FileHandle a = FileHandle.open(root.resolve("a"))) {
            a.mkdir("made", 0751);
            assertEquals(0751, a.child("made").stat().permissions());
            a.createFile("file", 0640);
            assertTrue(Files.isRegularFile(root.resolve("a/file"), LinkOption.NOFOLLOW_LINKS));
            assertThrows(FileSystemException.class, () -> a.createFile("link", 0640), "never through a link");
            assertEquals(0, Files.list(outside).filter(p -> !p.getFileName().toString().equals("secret")).count());
            try (FileHandle b = a.child("b")) {
                a.rename("file", b, "moved");
                assertTrue(Files.exists(root.resolve("a/b/moved")));
                assertThrows(FileSystemException.class, () -> a.rename("made", b, "moved"), "never over an entry");
            }
            a.remove("link", false);
            assertTrue(Files.exists(outside.resolve("secret")), "removing a link leaves its target");
            assertFalse(Files.exists(root.resolve("a/link"), LinkOption.NOFOLLOW_LINKS));
            assertThrows(IllegalArgumentException.class, () -> a.child("../outside"));
        }
    }

    @Test
    void aWhiteoutIsACharacterDevice00() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: mknod");
        try (FileHandle a = FileHandle.open(root.resolve("a"))) {
            a.whiteout("gone");
            FileHandle.Stat st = a.child("gone").stat();
            assertTrue(st.isDevice(), st.toString());
            assertEquals(0L, Files.getAttribute(root.resolve("a/gone"), "unix:rdev", LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void statDescribesALinkItselfAndSaysWhatIsAMountRoot() throws IOException {
        try (FileHandle a = FileHandle.open(root.resolve("a")); FileHandle link = a.child("link")) {
            assertTrue(link.stat().isSymbolicLink());
            assertEquals(outside.toString(), a.readLink("link"));
        }
        try (FileHandle proc = FileHandle.open(Path.of("/proc")); FileHandle a = FileHandle.open(root)) {
            assertTrue(proc.stat().mountRoot(), "/proc is a mount of its own");
            assertFalse(a.stat().mountRoot());
        }
    }
}
