package dev.strata.common.launch;

import dev.strata.common.grpc.Endpoint;
import java.time.Duration;
import dev.strata.common.metrics.MetricsServer;
import dev.strata.common.metrics.StrataMetrics;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The socket options every Strata server command has: where it listens, how long it drains. */
public final class ServerOptions {
    @Option(names = "--endpoint", description = "CSI endpoint, unix:///path/csi.sock (default: $CSI_ENDPOINT, "
            + "else the command's own)")
    String endpoint;

    @Option(names = "--socket-group", paramLabel = "GROUP",
            description = "Let this group use the socket too (mode 0660); without it only its owner may (0600)")
    String socketGroup;

    @Option(names = "--metrics-address", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (0.0.0.0:PORT or :PORT: every "
                    + "interface; default: none, no metrics server)")
    String metricsAddress;

    @Option(names = "--drain-timeout", defaultValue = "30",
            description = "Seconds to let in-flight calls finish on SIGTERM (default: ${DEFAULT-VALUE})")
    int drainSeconds;

    /** --endpoint, else $CSI_ENDPOINT, else {@code fallback}. */
    public Endpoint endpoint(String fallback) {
        return Endpoint.resolve(endpoint, fallback).withGroup(socketGroup);
    }

    /** Where to serve metrics; null when --metrics-address was not given. */
    public String metricsAddress() {
        return metricsAddress;
    }

    /**
     * Starts the metrics server of {@code metrics} where --metrics-address says, or returns null when
     * it says nothing; a malformed address is a usage error.
     */
    public MetricsServer startMetrics(CommandLine commandLine, StrataMetrics metrics) throws java.io.IOException {
        if (metricsAddress == null) {
            return null;
        }
        try {
            MetricsServer.parse(metricsAddress);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, "--metrics-address: " + e.getMessage());
        }
        return MetricsServer.start(metricsAddress, metrics.registry());
    }

    public Duration drainTimeout() {
        return Duration.ofSeconds(drainSeconds);
    }
}
