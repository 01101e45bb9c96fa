package dev.strata.cli;

import dev.strata.csi.v1.GetPluginInfoResponse;
import dev.strata.csi.v1.ProbeRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code stratactl info}, like {@code docker info}: which driver serves the socket (its name, version
 * and process), whether it is ready, its node and where it keeps its records. With {@code --wait} it
 * waits for Probe to say ready, not for a socket file: a file left by a killed driver is there at once.
 */
@Command(name = "info", description = {"Show which driver serves the socket and whether it is ready",
        "(GetPluginInfo, Probe, NodeGetInfo). Exit code 0 when it is ready, else 1."})
final class InfoCommand extends CsiCommand {
    private static final long POLL_MILLIS = 100;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "0",
            description = "Wait up to SECONDS for the driver to answer Probe ready (default: ${DEFAULT-VALUE})")
    long waitSeconds;

    private long deadline;

    @Override
    CsiClient connect(StrataCtl root) throws InterruptedException {
        deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
        Path socket = root.endpoint().socketPath();
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(POLL_MILLIS);
        }
        return super.connect(root);
    }

    @Override
    protected int run(CsiClient client) throws InterruptedException {
        String notReady = awaitReady(client);
        GetPluginInfoResponse plugin = client.pluginInfo();
        OptionalLong pid = client.serverPid();
        Table table = new Table("Endpoint:", root().endpoint().toString());
        table.row("Pid:", pid.isPresent() ? Long.toString(pid.getAsLong()) : "-");
        table.row("Driver:", plugin.getName() + " " + plugin.getVendorVersion());
        table.row("Ready:", notReady == null ? "true" : "false (" + notReady + ")");
        nodeId(client).ifPresent(node -> table.row("Node:", node));
        table.row("Data dir:", client.dataDir().map(Path::toString).orElse("-"));
        table.print(out());
        return notReady == null ? OK : FAILED;
    }

    /** The node's ID; empty when the socket serves no Node service (a controller plugin's). */
    private static Optional<String> nodeId(CsiClient client) {
        try {
            return Optional.of(client.nodeId());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Null once Probe says ready; else, at the deadline, why not. Refused connections are retried. */
    private String awaitReady(CsiClient client) throws InterruptedException {
        while (true) {
            String why;
            try {
                var probe = client.identity().probe(ProbeRequest.getDefaultInstance());
                // CSI: a Probe without "ready" means ready
                if (!probe.hasReady() || probe.getReady().getValue()) {
                    return null;
                }
                why = "Probe says not ready";
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                    throw e;
                }
                why = describe(e);
            }
            if (System.nanoTime() >= deadline) {
                if (why.startsWith("UNAVAILABLE")) {
                    throw new CliException("nothing answers on " + root().endpoint()
                            + (waitSeconds > 0 ? " after " + waitSeconds + " s" : "") + ": " + why);
                }
                return why;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }
}
