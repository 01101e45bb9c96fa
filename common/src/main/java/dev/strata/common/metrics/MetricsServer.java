package dev.strata.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code GET /metrics} (the Prometheus text formats) on the address it is given, and nothing
 * else: any other path is 404, any other method 405. The JDK's own HTTP server on one thread; a
 * scrape every few seconds needs no more. It binds exactly where it is told: {@code 127.0.0.1:9809}
 * is loopback only, {@code 0.0.0.0:9809} (or {@code :9809}) every interface.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    public static final String PATH = "/metrics";

    private final HttpServer http;
    private final ExecutorService thread;

    private MetricsServer(HttpServer http, ExecutorService thread) {
        this.http = http;
        this.thread = thread;
    }

    public static MetricsServer start(String address, PrometheusRegistry registry) throws IOException {
        InetSocketAddress bind = parse(address);
        // A client that sends its request or reads the answer too slowly is cut off after 30 s (the JDK
        // server reads these once, when it first loads; unlimited by default): one stuck client cannot
        // hold the single thread for ever.
        System.setProperty("sun.net.httpserver.maxReqTime", System.getProperty("sun.net.httpserver.maxReqTime", "30"));
        System.setProperty("sun.net.httpserver.maxRspTime", System.getProperty("sun.net.httpserver.maxRspTime", "30"));
        HttpServer http = HttpServer.create(bind, 16);
        MetricsHandler metrics = new MetricsHandler(registry);
        http.createContext("/", exchange -> {
            try (exchange) {
                String method = exchange.getRequestMethod();
                if (!exchange.getRequestURI().getPath().equals(PATH)) {
                    reply(exchange, 404, "not found: only " + PATH + " is served\n");
                } else if (!method.equals("GET") && !method.equals("HEAD")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    reply(exchange, 405, "method not allowed\n");
                } else {
                    metrics.handle(exchange);
                }
            }
        });
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-http");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(thread);
        http.start();
        LOG.info("serving metrics on http://{}{}", format(http.getAddress()), PATH);
        return new MetricsServer(http, thread);
    }

    /** Where the server listens (the port is the one bound, when port 0 was asked for). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /**
     * HOST:PORT, [IPv6]:PORT or :PORT (every interface). The host is an address or a name resolved
     * once, here; the port 0 to 65535 (0: any free port).
     */
    public static InetSocketAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("not HOST:PORT: " + address);
        }
        String host = address.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not HOST:PORT (the port is not a number): " + address);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + address);
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetSocketAddress bind = host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
        if (bind.isUnresolved()) {
            throw new IllegalArgumentException("unknown host: " + address);
        }
        return bind;
    }

    private static String format(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static void reply(HttpExchange exchange, int code, String body) throws IOException {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(code, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        http.stop(0);
        thread.shutdown();
    }
}
