package dev.strata.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/** stratactl run in this JVM exactly as main runs it, against one socket, with what it printed. */
final class Cli {
    record Result(int code, String out, String err) {
        List<String> lines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\n"));
        }
    }

    private final Path socket;

    Cli(Path socket) {
        this.socket = socket;
    }

    /** {@code stratactl --endpoint unix://SOCKET ARGS...} */
    Result run(String... args) {
        List<String> all = new ArrayList<>(List.of("--endpoint", "unix://" + socket));
        all.addAll(Arrays.asList(args));
        return runRaw(all.toArray(String[]::new));
    }

    static Result runRaw(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = StrataCtl.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static void assertOk(Result r) {
        assertEquals(0, r.code(), () -> "exit code; stderr: " + r.err());
        assertEquals("", r.err());
    }
}
