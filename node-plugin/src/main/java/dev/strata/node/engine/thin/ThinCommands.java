package dev.strata.node.engine.thin;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;

/** The thin engine's one way to treat a tool that failed: an IOException saying what ran and what it said. */
final class ThinCommands {
    private ThinCommands() {}

    static CommandRunner.Result check(CommandRunner.Result r) throws IOException {
        if (!r.ok()) {
            throw new IOException(new CommandRunner.CommandFailedException(r).getMessage());
        }
        return r;
    }
}
