package dev.strata.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the CSI socket. It owns the client for the duration of the command and turns
 * any failure into the one-line {@code stratactl: ...} message and exit code 1. The handling lives here,
 * not in a picocli exception handler, so that {@code new CommandLine(new StrataCtl()).execute(...)}
 * behaves exactly like the installed binary.
 */
abstract class CsiCommand implements Callable<Integer> {
    static final int OK = 0;
    static final int FAILED = 1;

    @Spec
    CommandSpec spec;

    /** Runs the command; returns the exit code. */
    protected abstract int run(CsiClient client) throws Exception;

    @Override
    public final Integer call() {
        StrataCtl root = root();
        StrataCtl.configureLogging(root.debug);
        try (CsiClient client = connect(root)) {
            return run(client);
        } catch (CommandLine.ParameterException e) {
            throw e; // a usage error: picocli prints it with the usage, exit code 2
        } catch (Exception e) {
            return fail(e);
        } finally {
            out().flush();
            err().flush();
        }
    }

    /** The client of the socket the command works on. */
    CsiClient connect(StrataCtl root) throws InterruptedException {
        return CsiClient.connect(root.endpoint(), root.timeout());
    }

    StrataCtl root() {
        return (StrataCtl) spec.root().userObject();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /**
     * Like docker's rm: every name is tried, each one done is printed, a failure is reported and the
     * rest still go; the exit code says whether any failed.
     */
    int forEachName(java.util.List<String> names, java.util.function.Consumer<String> action) {
        int exit = OK;
        for (String name : names) {
            try {
                action.accept(name);
                out().println(name);
            } catch (RuntimeException e) {
                exit = fail(e);
            }
        }
        return exit;
    }

    /** Prints the one error line (and, with --debug, the stack trace); returns exit code 1. */
    int fail(Throwable e) {
        err().println("stratactl: " + describe(e));
        if (root().debug) {
            e.printStackTrace(err());
        }
        return FAILED;
    }

    /** {@code CODE: description} for a gRPC status, else the message. */
    static String describe(Throwable e) {
        if (e instanceof StatusRuntimeException sre) {
            Status status = sre.getStatus();
            StringBuilder line = new StringBuilder(status.getCode().name());
            if (status.getDescription() != null) {
                line.append(": ").append(status.getDescription());
            }
            // Transport failures ("io exception") only say what went wrong in their cause.
            if (status.getCause() != null && status.getCause().getMessage() != null) {
                line.append(": ").append(status.getCause().getMessage());
            }
            return line.toString();
        }
        if (e instanceof CliException) {
            return e.getMessage();
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
