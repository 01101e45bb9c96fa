package dev.strata.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands (volume, snapshot, bench): alone it is a usage error. */
abstract class GroupCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        // subcommands() has each alias too: names them once each
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: one of "
                + String.join(", ", spec.subcommands().values().stream().map(CommandLine::getCommandName)
                        .distinct().toList()));
    }
}
