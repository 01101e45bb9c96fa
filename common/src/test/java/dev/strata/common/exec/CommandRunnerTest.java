package dev.strata.common.exec;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120) // a deadlock guard, not a timing assertion
class CommandRunnerTest {
    private final CommandRunner runner = new CommandRunner();

    @Test
    void trueSucceeds() {
        CommandRunner.Result r = runner.run("true");
        assertTrue(r.ok());
        assertEquals(0, r.exitCode());
        assertEquals(List.of("true"), r.command());
        assertSame(r, r.check());
    }

    @Test
    void stdoutIsCaptured() {
        CommandRunner.Result r = runner.run("sh", "-c", "printf 'hello\\nworld\\n'");
        assertEquals("hello\nworld\n", r.stdout());
        assertEquals("", r.stderr());
    }

    @Test
    void falseFailsAndCheckThrows() {
        CommandRunner.Result r = runner.run("false");
        assertFalse(r.ok());
        assertEquals(1, r.exitCode());
        CommandRunner.CommandFailedException e = assertThrows(CommandRunner.CommandFailedException.class, r::check);
        assertTrue(e.getMessage().startsWith("false exited 1"), e.getMessage());
        assertSame(r, e.result());
    }

    @Test
    void exitCodeAndStderrReported() {
        CommandRunner.Result r = runner.run("sh", "-c", "echo err >&2; exit 3");
        assertEquals(3, r.exitCode());
        assertEquals("err\n", r.stderr());
        CommandRunner.CommandFailedException e = assertThrows(CommandRunner.CommandFailedException.class, r::check);
        assertEquals("sh -c echo err >&2; exit 3 exited 3: err", e.getMessage());
    }

    @Test
    void stdinIsEmpty() {
        // a tool that reads stdin must see end-of-file, not hang on an inherited terminal
        CommandRunner.Result r = runner.run("cat");
        assertTrue(r.ok());
        assertEquals("", r.stdout());
    }

    @Test
    void inputReachesTheToolAndNeverItsMessages() {
        CommandRunner.Result r = runner.run(List.of("sh", "-c", "cat; echo failed >&2; exit 4"),
                "the-input".getBytes(StandardCharsets.UTF_8));
        assertEquals("the-input", r.stdout());
        assertEquals(4, r.exitCode());
        assertEquals("sh -c cat; echo failed >&2; exit 4 exited 4: failed",
                new CommandRunner.CommandFailedException(r).getMessage());
        // A tool that exits without reading its input is no error of the runner's.
        assertTrue(runner.run(List.of("true"), new byte[1 << 20]).ok());
    }

    @Test
    void checkIoSaysWhatFailedAsAnIOExceptionAndPassesSuccessThrough() throws IOException {
        CommandRunner.Result failed = runner.run("sh", "-c", "echo no space >&2; exit 3");
        IOException e = assertThrows(IOException.class, failed::checkIo);
        assertEquals("sh -c echo no space >&2; exit 3 exited 3: no space", e.getMessage());
        assertEquals(e.getMessage(), assertThrows(CommandRunner.CommandFailedException.class, failed::check)
                .getMessage());
        CommandRunner.Result ok = runner.run("true");
        assertSame(ok, ok.checkIo());
    }

    @Test
    void missingBinaryIsExit127WithoutException() {
        CommandRunner.Result r = assertDoesNotThrow(() -> runner.run("/nonexistent/strata-no-such-tool", "arg"));
        assertEquals(127, r.exitCode());
        assertFalse(r.ok());
        assertFalse(r.stderr().isEmpty());
        assertThrows(CommandRunner.CommandFailedException.class, r::check);
    }

    @Test
    void largeStderrDoesNotDeadlock() {
        // 200 KiB on stderr: far beyond a pipe's 64 KiB buffer
        CommandRunner.Result r = runner.run("sh", "-c", "head -c 204800 /dev/zero | tr '\\0' e >&2; echo done");
        assertTrue(r.ok(), r.stderr().length() + " bytes of stderr");
        assertEquals(204800, r.stderr().length());
        assertEquals("done\n", r.stdout());
    }

    @Test
    void largeStdoutAndStderrTogetherDoNotDeadlock() {
        CommandRunner.Result r = runner.run("sh", "-c",
                "i=0; while [ $i -lt 4 ]; do head -c 65536 /dev/zero | tr '\\0' o; head -c 65536 /dev/zero | tr '\\0' e >&2;"
                        + " i=$((i+1)); done");
        assertTrue(r.ok());
        assertEquals(4 * 65536, r.stdout().length());
        assertEquals(4 * 65536, r.stderr().length());
    }
}
