package dev.strata.common.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class EndpointTest {

    @Test
    void unixUrlForms() {
        assertEquals(Path.of("/a/b"), Endpoint.parse("unix:///a/b").socketPath());
        assertEquals(Path.of("/a/b"), Endpoint.parse("unix:/a/b").socketPath());
        assertEquals(Path.of("/a/b"), Endpoint.parse("/a/b").socketPath());
        assertEquals(Path.of("/csi/csi.sock"), Endpoint.parse("unix:///csi/./x/../csi.sock").socketPath());
        assertEquals("unix:///a/b", Endpoint.parse("/a/b").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp://127.0.0.1:10000", "http://localhost/x", "dns:///host:1"})
    void networkEndpointsRefused(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(text));
        assertTrue(e.getMessage().contains("only unix://"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"csi.sock", "unix://csi.sock", "unix:relative/csi.sock", "./csi.sock"})
    void relativePathsRefused(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(text));
        assertTrue(e.getMessage().contains("absolute"), e.getMessage());
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"   "})
    void emptyRefusedNamingTheVariable(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(text));
        assertTrue(e.getMessage().contains("CSI_ENDPOINT"), e.getMessage());
    }

    @Test
    void optionWinsOverEnvironmentWhichWinsOverTheFallbackUnlessBlank() {
        assertEquals(Path.of("/opt/x.sock"), Endpoint.resolve("unix:///opt/x.sock", "unix:///fb.sock").socketPath());
        assertEquals("unix:///env.sock", Endpoint.resolveEnv("unix:///env.sock", "unix:///fb.sock"));
        assertEquals("unix:///fb.sock", Endpoint.resolveEnv("", "unix:///fb.sock"));
        assertEquals("unix:///fb.sock", Endpoint.resolveEnv("  ", "unix:///fb.sock"));
        assertEquals("unix:///fb.sock", Endpoint.resolveEnv(null, "unix:///fb.sock"));
    }
}
