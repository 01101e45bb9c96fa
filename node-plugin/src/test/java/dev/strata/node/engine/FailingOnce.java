package dev.strata.node.engine;

import dev.strata.common.exec.CommandRunner;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs host commands for real, except the first run of one program, which fails as that program
 * would (exit status 1, nothing run): a step that fails halfway through an operation, for the
 * operation's retry to finish.
 */
public final class FailingOnce extends CommandRunner {
    private final String program;
    private final AtomicBoolean failed = new AtomicBoolean();

    public FailingOnce(String program) {
        this.program = program;
    }

    @Override
    public Result run(List<String> command, byte[] input) {
        if (command.get(0).equals(program) && failed.compareAndSet(false, true)) {
            return new Result(command, 1, "", program + ": failed on purpose, once (a test's fault)");
        }
        return super.run(command, input);
    }

    /** Whether the failure has happened: a test that expected it proves it ran the step. */
    public boolean hasFailed() {
        return failed.get();
    }
}
