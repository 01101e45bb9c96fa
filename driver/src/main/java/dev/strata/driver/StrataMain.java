package dev.strata.driver;

import picocli.CommandLine;
import dev.strata.common.launch.VersionProvider;
import dev.strata.controller.ControllerCommand;
import dev.strata.node.main.NodeCommand;
import dev.strata.node.sys.FileHandle;
import picocli.CommandLine.Command;

/** The {@code strata} executable. Each mode of running the driver is a subcommand. */
@Command(name = "strata", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Strata CSI driver (strata.csi.dev).",
        subcommands = {StandaloneCommand.class, ControllerCommand.class, NodeCommand.class})
public final class StrataMain {
    public static void main(String[] args) {
        // Whatever the driver creates (records, layers, its socket) is root's alone unless it says
        // otherwise; the umask it was started with (000 under some supervisors) must not decide.
        FileHandle.umask(0077);
        System.exit(new CommandLine(new StrataMain()).execute(args));
    }
}
