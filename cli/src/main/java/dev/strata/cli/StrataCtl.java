package dev.strata.cli;

import dev.strata.common.BuildInfo;
import dev.strata.common.grpc.Endpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * stratactl: volumes, snapshots and mounts through a CSI driver's Unix socket, shaped like
 * {@code docker volume}. It speaks only the CSI protocol, so it works against any CSI driver.
 */
// scope INHERIT: every subcommand gets -h/--help too.
@Command(name = "stratactl", mixinStandardHelpOptions = true, versionProvider = StrataCtl.Version.class,
        scope = ScopeType.INHERIT, usageHelpAutoWidth = true,
        description = "Manage volumes, snapshots and mounts through a CSI driver's Unix socket.",
        subcommands = {VolumeCommands.class, SnapshotCommands.class, BackupCommands.class, MountCommands.Mount.class,
                MountCommands.Umount.class, InfoCommand.class, BenchCommand.class, SystemCommands.class,
                EventsCommand.class})
public final class StrataCtl extends GroupCommand {
    static final String DEFAULT_ENDPOINT = "unix:///run/strata/csi.sock";
    static final String DEFAULT_STATE_DIR = "/run/stratactl";
    static final String STATE_DIR_ENV = "STRATACTL_STATE_DIR";

    // INHERIT: the global options may also be given after a subcommand (`stratactl volume ls --endpoint ...`).
    @Option(names = "--endpoint", scope = ScopeType.INHERIT, paramLabel = "unix:///PATH",
            description = {"CSI socket (default: $CSI_ENDPOINT,", "else " + DEFAULT_ENDPOINT + ")"})
    String endpoint;

    @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "SECONDS", defaultValue = "60",
            description = "Deadline of each CSI call (default: ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces and gRPC/Netty logs")
    boolean debug;

    /** Where mount/umount keep their records; tests point it at a temp dir. */
    @Option(names = "--state-dir", scope = ScopeType.INHERIT, hidden = true)
    Path stateDir;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** stratactl as main runs it: bad input is one line and the usage of what was wrong ({@link UsageErrors}). */
    static CommandLine commandLine() {
        return new CommandLine(new StrataCtl()).setParameterExceptionHandler(new UsageErrors());
    }

    Endpoint endpoint() {
        try {
            return Endpoint.resolve(endpoint, DEFAULT_ENDPOINT);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    Duration timeout() {
        if (timeoutSeconds <= 0) {
            throw new CliException("--timeout: must be positive, got " + timeoutSeconds);
        }
        return Duration.ofSeconds(timeoutSeconds);
    }

    Path stateDir() {
        if (stateDir != null) {
            return stateDir;
        }
        String env = System.getenv(STATE_DIR_ENV);
        return Path.of(env != null && !env.isBlank() ? env : DEFAULT_STATE_DIR);
    }

    /**
     * gRPC and Netty log through java.util.logging (Netty falls back to it because slf4j-nop is bound);
     * a CLI's output must be its results only, so JUL is silenced unless --debug.
     */
    static void configureLogging(boolean debug) {
        Logger root = LogManager.getLogManager().getLogger("");
        root.setLevel(debug ? Level.INFO : Level.OFF);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"stratactl " + BuildInfo.VERSION};
        }
    }
}
