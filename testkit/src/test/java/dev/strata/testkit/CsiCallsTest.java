package dev.strata.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class CsiCallsTest {
    /** gRPC asks for SO_KEEPALIVE on a Unix socket, and Netty warns each time: the testkit quiets that. */
    @Test
    void aConnectionQuietsNettysKeepAliveWarningUnderLogback() {
        try (CsiCalls.Connection c = new CsiCalls.Connection(Path.of("/nonexistent/csi.sock"))) {
            assertEquals(Level.ERROR, ((Logger) LoggerFactory.getLogger("io.netty.bootstrap.Bootstrap")).getLevel());
        }
    }
}
