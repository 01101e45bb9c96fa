package dev.strata.node.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CO's paths: a link only root could have placed is followed (a relocated kubelet), any other is not. */
class PathWalkTest {
    @TempDir
    Path tmp;
    Path real;

    @BeforeEach
    void needsRoot() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: links owned by root and by another user");
        real = Files.createDirectories(tmp.resolve("data/kubelet"));
    }

    @Test
    void followsALinkRootPlacedInADirectoryOnlyRootMayWrite() throws IOException {
        Files.createSymbolicLink(tmp.resolve("kubelet"), real);
        Posix.chmod(tmp, 0755);
        try (FileHandle dir = PathWalk.parentOf(tmp.resolve("kubelet/pods/p1/mount"), true)) {
            assertEquals(real.resolve("pods/p1").toRealPath(), dir.realPath());
            assertEquals(0750, dir.stat().permissions(), "made as kubelet makes its directories");
        }
    }

    @Test
    void followsARelativeLinkWithDotDot() throws IOException {
        Files.createDirectories(tmp.resolve("x"));
        Files.createSymbolicLink(tmp.resolve("x/up"), Path.of("../data/kubelet"));
        try (FileHandle dir = PathWalk.open(tmp.resolve("x/up"), false)) {
            assertEquals(real.toRealPath(), dir.realPath());
        }
    }

    @Test
    void refusesALinkInADirectoryOthersMayWrite() throws IOException {
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        Posix.chmod(shared, 01777); // like /tmp: anyone may place a link here
        Files.createSymbolicLink(shared.resolve("target"), Path.of("/etc"));
        assertThrows(FileHandle.SymbolicLinkException.class,
                () -> PathWalk.parentOf(shared.resolve("target/mount"), true).close());
        assertTrue(Files.notExists(Path.of("/etc/mount")));
    }

    @Test
    void refusesALinkAnotherUserOwns() throws IOException {
        Files.createSymbolicLink(tmp.resolve("planted"), Path.of("/etc"));
        Posix.lchown(tmp.resolve("planted"), 65534, 65534);
        assertThrows(FileHandle.SymbolicLinkException.class, () -> PathWalk.open(tmp.resolve("planted"), false).close());
    }

    @Test
    void refusesALinkInADirectoryAnotherUserOwns() throws IOException {
        Path theirs = Files.createDirectories(tmp.resolve("theirs"));
        Posix.lchown(theirs, 65534, 65534);
        Files.createSymbolicLink(theirs.resolve("link"), real);
        assertThrows(FileHandle.SymbolicLinkException.class, () -> PathWalk.open(theirs.resolve("link"), false).close());
    }

    @Test
    void aFileOnTheWayOrAMissingDirectoryIsAnError() throws IOException {
        Files.writeString(tmp.resolve("file"), "x");
        assertThrows(NotDirectoryException.class, () -> PathWalk.parentOf(tmp.resolve("file/target"), true).close());
        assertThrows(NoSuchFileException.class, () -> PathWalk.parentOf(tmp.resolve("missing/target"), false).close());
    }
}
