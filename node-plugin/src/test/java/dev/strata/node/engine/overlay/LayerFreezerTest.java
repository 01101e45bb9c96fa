package dev.strata.node.engine.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.sys.Posix;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A later freeze's rsync that a pod's swap of a directory and a link aborted (CI once saw it: the
 * receiver refuses a path below what has become a link, and stops the whole copy) runs again from
 * an empty layer, and a pod that never stops swapping fails its snapshot with nothing left behind.
 * Here the real rsync runs and its result is then reported as that abort.
 */
class LayerFreezerTest {
    private static final String ABORT = "ABORTING due to invalid path from sender: d/sub\n"
            + "rsync error: protocol incompatibility (code 2) at generator.c(1715) [generator=3.5.0]\n";

    @TempDir
    Path tmp;

    private Path upper;
    private Path layers;

    @BeforeEach
    void tree() throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: rsync keeps owners and trusted xattrs");
        upper = Files.createDirectories(tmp.toRealPath().resolve("upper"));
        layers = Files.createDirectories(tmp.toRealPath().resolve("layers"));
        Files.createDirectories(upper.resolve("d/sub"));
        Files.writeString(upper.resolve("d/sub/kept"), "1");
        Files.writeString(upper.resolve("gone"), "2");
    }

    /** A runner that reports the first {@code aborts} rsync runs as aborted by a swap, after running them. */
    private static CommandRunner abortingRsync(int aborts, int[] runs) {
        return new CommandRunner() {
            @Override
            public Result run(List<String> command) {
                Result real = super.run(command);
                if (!command.contains("rsync")) {
                    return real;
                }
                return ++runs[0] <= aborts ? new Result(command, 2, "", ABORT) : real;
            }
        };
    }

    private LayerFreezer.Frozen first(LayerFreezer freezer) throws Exception {
        return freezer.freeze(upper, layers, "snap-1", Optional.empty(), "snap-1");
    }

    @Test
    void anRsyncAbortedByASwapRunsAgainAndTheLayerIsWhole() throws Exception {
        int[] runs = new int[1];
        LayerFreezer freezer = new LayerFreezer(abortingRsync(2, runs));
        LayerFreezer.Frozen previous = first(freezer);
        Files.writeString(upper.resolve("d/new"), "3");
        Files.delete(upper.resolve("gone"));

        freezer.freeze(upper, layers, "snap-2", Optional.of(previous), "snap-2");

        assertEquals(3, runs[0], "two aborted runs and the one that copied");
        Path layer = layers.resolve("snap-2");
        assertEquals("3", Files.readString(layer.resolve("d/new")));
        assertTrue(isWhiteout(layer.resolve("gone")), "the deleted file is whited out");
    }

    @Test
    void aPodThatNeverStopsSwappingFailsItsSnapshotAndLeavesNothing() throws Exception {
        int[] runs = new int[1];
        LayerFreezer freezer = new LayerFreezer(abortingRsync(Integer.MAX_VALUE, runs));
        LayerFreezer.Frozen previous = first(freezer);
        Files.writeString(upper.resolve("d/new"), "3");

        assertThrows(CommandRunner.CommandFailedException.class,
                () -> freezer.freeze(upper, layers, "snap-2", Optional.of(previous), "snap-2"));

        assertEquals(5, runs[0], "a bounded number of attempts");
        try (Stream<Path> left = Files.list(layers)) {
            assertEquals(List.of(layers.resolve("snap-1")), left.toList(), "no half-built layer, no list file");
        }
    }

    private static boolean isWhiteout(Path p) throws Exception {
        int mode = (int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0020000 && (long) Files.getAttribute(p, "unix:rdev", LinkOption.NOFOLLOW_LINKS) == 0;
    }
}
