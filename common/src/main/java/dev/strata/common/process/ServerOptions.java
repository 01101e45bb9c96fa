package dev.strata.common.process;

import dev.strata.common.grpc.Endpoint;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The socket options every Strata server command has: where it listens, how long it drains. */
public final class ServerOptions {
    @Option(names = "--endpoint", description = "CSI endpoint, unix:///path/csi.sock (default: $CSI_ENDPOINT, "
            + "else the command's own)")
    String endpoint;

    @Option(names = "--socket-group", paramLabel = "GROUP",
            description = "Let this group use the socket too (mode 0660); without it only its owner may (0600)")
    String socketGroup;

    @Option(names = "--drain-timeout", defaultValue = "30",
            description = "Seconds to let in-flight calls finish on SIGTERM (default: ${DEFAULT-VALUE})")
    int drainSeconds;

    /** --endpoint, else $CSI_ENDPOINT, else {@code fallback}. */
    public Endpoint endpoint(String fallback) {
        return Endpoint.parse(endpoint != null ? endpoint : System.getenv().getOrDefault(Endpoint.ENV, fallback))
                .withGroup(socketGroup);
    }

    public Duration drainTimeout() {
        return Duration.ofSeconds(drainSeconds);
    }
}
