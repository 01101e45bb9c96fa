package dev.strata.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus for a test (Debian's package, 2.42): started on a loopback port with Strata's
 * alert rules and the scrape jobs the test gives, queried through its HTTP API, stopped at close.
 */
public final class PrometheusServer implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/prometheus");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path log;
    private final String api;
    private final HttpClient http = HttpClient.newHttpClient();

    private PrometheusServer(Process process, Path log, String api) {
        this.process = process;
        this.log = log;
        this.api = api;
    }

    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /**
     * Starts it in {@code dir} (configuration, database, log), scraping and evaluating every second.
     * {@code scrapeConfigs}: the YAML list items under {@code scrape_configs}, indented by two spaces.
     */
    public static PrometheusServer start(Path dir, Path rules, String scrapeConfigs) throws IOException {
        Files.createDirectories(dir);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                global: {scrape_interval: 1s, evaluation_interval: 1s}
                rule_files: [%s]
                scrape_configs:
                """.formatted(rules.toAbsolutePath().normalize()) + scrapeConfigs);
        Path log = dir.resolve("prometheus.log");
        Process p = new ProcessBuilder(BINARY.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new PrometheusServer(p, log, "http://127.0.0.1:" + port + "/api/v1/");
    }

    /** GET on the HTTP API: {@code rules}, {@code alerts}, {@code targets}, {@code query?query=…}. */
    public JsonNode get(String path) throws IOException, InterruptedException {
        return JSON.readTree(send(path).body());
    }

    private HttpResponse<String> send(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(api + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits (2 minutes at most) until the instant query gives exactly {@code count} series; returns them. */
    public List<JsonNode> awaitSeries(String query, int count) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = send("query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
                // Until it is ready, Prometheus answers 503 "Service Unavailable", in plain text.
                if (r.statusCode() == 200) {
                    last = JSON.readTree(r.body());
                    List<JsonNode> series = new ArrayList<>();
                    last.path("data").path("result").forEach(series::add);
                    if (series.size() == count) {
                        return series;
                    }
                }
            } catch (ConnectException notYet) {
                // Prometheus is still starting
            }
            Thread.sleep(500);
        }
        throw new AssertionError("Prometheus never gave " + count + " series for " + query + ": " + last
                + "\ntargets: " + targetsSeen() + "\n" + Files.readString(log));
    }

    /** Each series' value by one of its labels. */
    public static Map<String, String> valuesBy(String label, List<JsonNode> series) {
        Map<String, String> values = new TreeMap<>();
        series.forEach(s -> values.put(s.path("metric").path(label).asText(), s.path("value").get(1).asText()));
        return values;
    }

    /** Every rule loaded, as {@code name=health} (ok, err or unknown). */
    public List<String> ruleHealth() throws IOException, InterruptedException {
        List<String> rules = new ArrayList<>();
        for (JsonNode group : get("rules").path("data").path("groups")) {
            group.path("rules").forEach(r -> rules.add(r.path("name").asText() + "=" + r.path("health").asText()));
        }
        return rules;
    }

    private String targetsSeen() throws InterruptedException {
        try {
            return get("targets").toString();
        } catch (IOException e) {
            return "(Prometheus does not answer: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
