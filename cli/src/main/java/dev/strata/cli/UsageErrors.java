package dev.strata.cli;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Bad input, as docker reports it: one line saying what is wrong, the usage of the option or argument
 * at fault (not the whole help), and where the rest is. Exit code 2; nothing was sent to the driver.
 */
final class UsageErrors implements CommandLine.IParameterExceptionHandler {
    @Override
    public int handleParseException(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("stratactl: " + e.getMessage());
        List<ArgSpec> faulty = e instanceof CommandLine.MissingParameterException missing ? missing.getMissing()
                : e.getArgSpec() == null ? List.of() : List.of(e.getArgSpec());
        faulty.forEach(arg -> err.print(usageOf(cmd, arg)));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("See '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** The help lines of one option or positional parameter. */
    static String usageOf(CommandLine cmd, ArgSpec arg) {
        CommandLine.Help help = cmd.getHelp();
        if (arg instanceof OptionSpec option) {
            return help.optionListExcludingGroups(List.of(option));
        }
        if (arg instanceof PositionalParamSpec positional) {
            return help.parameterList(List.of(positional));
        }
        throw new IllegalArgumentException("neither an option nor a positional parameter: " + arg);
    }
}
