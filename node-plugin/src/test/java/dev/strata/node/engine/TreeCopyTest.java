package dev.strata.node.engine;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    @Test
    void filesThatWentDuringTheCopyAreNotAFailure() {
        assertDoesNotThrow(() -> TreeCopy.liveCopy(cp(1, "cp: cannot stat '/v/n.tmp': No such file or directory\n")));
        assertDoesNotThrow(() -> TreeCopy.liveCopy(cp(1,
                "cp: cannot open '/v/a' for reading: No such file or directory\n"
                        + "cp: cannot stat '/v/b': No such file or directory\n")));
    }

    @Test
    void anyOtherErrorIs() {
        assertThrows(CommandRunner.CommandFailedException.class,
                () -> TreeCopy.liveCopy(cp(1, "cp: error writing '/t/a': No space left on device\n")));
        assertThrows(CommandRunner.CommandFailedException.class, () -> TreeCopy.liveCopy(cp(1,
                "cp: cannot stat '/v/b': No such file or directory\ncp: cannot open '/v/c' for reading: "
                        + "Permission denied\n")));
        assertThrows(CommandRunner.CommandFailedException.class, () -> TreeCopy.liveCopy(cp(1, "")));
    }

    @Test
    void aTreeIsCopiedWithItsContent(@TempDir Path dir) throws Exception {
        Path from = Files.createDirectories(dir.resolve("from/sub"));
        Files.writeString(from.resolve("f"), "data");
        new TreeCopy(new CommandRunner()).copy(dir.resolve("from"), dir.resolve("to"));
        assertEquals("data", Files.readString(dir.resolve("to/sub/f")));
    }
}
