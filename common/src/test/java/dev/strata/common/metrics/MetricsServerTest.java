package dev.strata.common.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.BuildInfo;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class MetricsServerTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private MetricsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> send(String method, String path) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
        return http.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheRegistryAtMetricsAndNothingElse() throws Exception {
        StrataMetrics metrics = new StrataMetrics("standalone")
                .add("test", () -> List.of(Sample.gauge("strata_test_value", "a value", Map.of("engine", "dir"), 42),
                        Sample.counter("strata_test_events_total", "events", Map.of(), 3)));
        server = MetricsServer.start("127.0.0.1:0", metrics.registry());
        assertTrue(server.address().getAddress().isLoopbackAddress(), "bound where it was told: " + server.address());

        HttpResponse<String> scrape = send("GET", "/metrics");
        assertEquals(200, scrape.statusCode());
        String body = scrape.body();
        assertTrue(body.contains("strata_build_info{component=\"standalone\",driver=\"" + BuildInfo.DRIVER_NAME
                + "\",version=\"" + BuildInfo.VERSION + "\"} 1"), body);
        assertTrue(body.contains("strata_test_value{engine=\"dir\"} 42.0"), body);
        assertTrue(body.contains("strata_test_events_total 3.0"), body);
        assertTrue(body.contains("strata_metrics_source_up{source=\"test\"} 1.0"), body);

        assertEquals(404, send("GET", "/").statusCode());
        assertEquals(404, send("GET", "/-/healthy").statusCode());
        assertEquals(404, send("GET", "/metrics/../debug").statusCode());
        assertEquals(405, send("POST", "/metrics").statusCode());
        assertEquals(405, send("PUT", "/metrics").statusCode());
    }

    @Test
    void aFailingSourceIsReportedDownAndTheRestStillServed() throws Exception {
        StrataMetrics metrics = new StrataMetrics("node")
                .add("broken", () -> {
                    throw new IOException("dmsetup: no such device");
                })
                .add("fine", () -> List.of(Sample.gauge("strata_test_value", "a value", Map.of(), 1)));
        server = MetricsServer.start("127.0.0.1:0", metrics.registry());
        String body = send("GET", "/metrics").body();
        assertTrue(body.contains("strata_metrics_source_up{source=\"broken\"} 0.0"), body);
        assertTrue(body.contains("strata_metrics_source_up{source=\"fine\"} 1.0"), body);
        assertTrue(body.contains("strata_test_value 1.0"), body);
    }

    @Test
    void addressesAreHostAndPort() {
        assertEquals(9809, MetricsServer.parse(":9809").getPort());
        assertTrue(MetricsServer.parse(":9809").getAddress().isAnyLocalAddress());
        assertTrue(MetricsServer.parse("0.0.0.0:9809").getAddress().isAnyLocalAddress());
        assertTrue(MetricsServer.parse("127.0.0.1:9809").getAddress().isLoopbackAddress());
        assertTrue(MetricsServer.parse("[::1]:9809").getAddress().isLoopbackAddress());
        for (String bad : List.of("9809", "localhost:", "127.0.0.1:http", "127.0.0.1:70000", "127.0.0.1:-1")) {
            assertThrows(IllegalArgumentException.class, () -> MetricsServer.parse(bad), bad);
        }
    }

    @Test
    void aCounterNamesItsTotal() {
        assertThrows(IllegalArgumentException.class, () -> Sample.counter("strata_events", "", Map.of(), 1));
    }
}
