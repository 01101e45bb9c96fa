package dev.strata.node.engine;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copies of trees in use: a file that goes while cp runs is not a failure, any other error is. (The
 * e2e suite takes snapshots while a container renames files in the volume, for real.)
 */
class TreeCopyTest {
    private static CommandRunner.Result cp(int exit, String stderr) {
        return new CommandRunner.Result(List.of("cp", "-a"), exit, "", stderr);
    }

    private static CommandRunner.Result rsync(int exit, String stderr) {
        return new CommandRunner.Result(List.of("rsync", "-aXS"), exit, "", stderr);
    }

    /** What cp and rsync said when a container renamed files, or swapped a directory and a link, during a copy. */
    @Test
    void entriesThatWentOrChangedDuringTheCopyAreNotAFailure() {
        assertDoesNotThrow(() -> LiveCopy.check(cp(1, "cp: cannot stat '/src/./n.tmp': No such file or directory\n")));
        assertDoesNotThrow(() -> LiveCopy.check(cp(1,
                "cp: cannot open '/src/./a' for reading: No such file or directory\n"
                        + "cp: cannot stat '/src/./b': No such file or directory\n"
                        + "cp: ‘/src/./d/sub’: No such file or directory\n"
                        + "cp: cannot access '/src/./l': No such file or directory\n"
                        + "cp: cannot read symbolic link '/src/./l': Invalid argument\n"
                        + "cp: skipping file '/src/./f', as it was replaced while being copied\n")));
        assertDoesNotThrow(() -> LiveCopy.check(rsync(23,
                "rsync: [sender] get_xattr_data: lgetxattr(\"/src/l\",\"trusted.overlay.opaque\",1) failed: No data "
                        + "available (61)\n"
                        + "rsync: [sender] link_stat \"/src/d/x\" failed: No such file or directory (2)\n"
                        + "file has vanished: \"/src/n.tmp\"\n"
                        + "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at "
                        + "main.c(1394) [sender=3.5.0]\n")));
    }

    @Test
    void anyOtherErrorIs() {
        assertThrows(CommandRunner.CommandFailedException.class,
                () -> LiveCopy.check(cp(1, "cp: error writing '/dst/a': No space left on device\n")));
        assertThrows(CommandRunner.CommandFailedException.class, () -> LiveCopy.check(cp(1,
                "cp: cannot stat '/src/b': No such file or directory\ncp: cannot open '/src/c' for reading: "
                        + "Permission denied\n")));
        assertThrows(CommandRunner.CommandFailedException.class, () -> LiveCopy.check(cp(1,
                "cp: cannot create regular file '/dst/x': No such file or directory\n")));
        assertThrows(CommandRunner.CommandFailedException.class, () -> LiveCopy.check(rsync(23,
                "rsync: [receiver] mkstemp \"/dst/.x.abc\" failed: No space left on device (28)\n"
                        + "rsync error: some files/attrs were not transferred (see previous errors) (code 23)\n")));
        assertThrows(CommandRunner.CommandFailedException.class, () -> LiveCopy.check(cp(1, "")));
    }

    /** What rsync said in CI when the racing pod swapped d and a link between its list and its copy. */
    @Test
    void anRsyncThatASwapAbortedIsToldApartFromOtherFailures() {
        CommandRunner.Result aborted = rsync(2,
                "rsync: [sender] get_xattr_data: lgetxattr(\"/src/d\",\"trusted.overlay.opaque\",0) failed: No data "
                        + "available (61)\n"
                        + "ABORTING due to invalid path from sender: d/sub\n"
                        + "rsync error: protocol incompatibility (code 2) at generator.c(1715) [generator=3.5.0]\n");
        assertTrue(LiveCopy.abortedByASwap(aborted));
        assertThrows(CommandRunner.CommandFailedException.class, () -> LiveCopy.check(aborted),
                "an aborted copy is incomplete: it is run again, never taken as it is");
        assertFalse(LiveCopy.abortedByASwap(rsync(2, "rsync error: protocol incompatibility (code 2)\n")));
        assertFalse(LiveCopy.abortedByASwap(rsync(23, "ABORTING due to invalid path from sender: d/sub\n")));
    }

    @Test
    void filesReplacedDuringTheCopyAreNamed() {
        assertEquals(List.of("n", "d/e f"), LiveCopy.replaced(cp(1,
                "cp: skipping file '/src/./n', as it was replaced while being copied\n"
                        + "cp: cannot stat '/src/./n.tmp': No such file or directory\n"
                        + "cp: skipping file '/src/d/e f', as it was replaced while being copied\n")));
        assertEquals(List.of(), LiveCopy.replaced(cp(0, "")));
    }

    /**
     * cp skips a file renamed over while it copies it; the file was there all along (a counter a
     * writer replaces by rename), and a snapshot without it stands for no moment of the volume (the
     * e2e suite's restored copy once had no counter). Here the first cp is made to have skipped it.
     */
    @Test
    void aFileReplacedDuringTheCopyIsCopiedAgain(@TempDir Path dir) throws Exception {
        Path from = dir.resolve("from");
        Files.writeString(Files.createDirectories(from.resolve("sub")).resolve("n"), "41");
        Files.writeString(from.resolve("log"), "line-0\n");
        Path to = dir.resolve("to");
        CommandRunner skipsTheCounter = new CommandRunner() {
            private int runs;

            @Override
            public Result run(List<String> command) {
                Result real = super.run(command);
                if (runs++ > 0) {
                    return real;
                }
                try {
                    Files.delete(to.resolve("sub/n")); // as cp leaves it when the file is replaced under it
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return new Result(command, 1, "", "cp: skipping file '/src/./sub/n', as it was replaced while "
                        + "being copied\n");
            }
        };
        new TreeCopy(skipsTheCounter).copy(from, to);
        assertEquals("41", Files.readString(to.resolve("sub/n")), "the replaced file, copied again");
        assertEquals("line-0\n", Files.readString(to.resolve("log")));
    }

    @Test
    void aTreeIsCopiedWithItsContent(@TempDir Path dir) throws Exception {
        Path from = Files.createDirectories(dir.resolve("from/sub"));
        Files.writeString(from.resolve("f"), "data");
        new TreeCopy(new CommandRunner()).copy(dir.resolve("from"), dir.resolve("to"));
        assertEquals("data", Files.readString(dir.resolve("to/sub/f")));
    }
}
