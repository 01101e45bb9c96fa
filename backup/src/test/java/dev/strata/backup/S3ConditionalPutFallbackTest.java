package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.strata.testkit.S3Server;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * putIfAbsent on a server that answers {@code If-None-Match} with 501 NotImplemented (as some
 * S3-compatible servers do; S3Proxy instead ignores the header, so it cannot show this): the target
 * falls back to exists-then-put and stops sending the header. The stub below answers just the few
 * requests that takes.
 */
class S3ConditionalPutFallbackTest {
    @Test
    void a501ForIfNoneMatchFallsBackToExistsThenPut() throws Exception {
        Set<String> objects = ConcurrentHashMap.newKeySet();
        AtomicInteger conditional = new AtomicInteger();
        HttpServer stub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stub.createContext("/", exchange -> answer(exchange, objects, conditional));
        stub.start();
        try {
            String url = "s3://bucket/p?endpoint=http://127.0.0.1:" + stub.getAddress().getPort();
            S3Target target = new S3Target(S3Location.parse(url), S3Server.CREDENTIALS, S3Target.MAX_PAGE);

            assertTrue(target.putIfAbsent("config", "first".getBytes(StandardCharsets.UTF_8)));
            assertTrue(objects.contains("/bucket/p/config"));
            assertFalse(target.putIfAbsent("config", "second".getBytes(StandardCharsets.UTF_8)));
            assertTrue(target.putIfAbsent("other", new byte[1]));
            assertEquals(1, conditional.get(), "after one 501 the header is not sent again");
        } finally {
            stub.stop(0);
        }
    }

    private static void answer(HttpExchange exchange, Set<String> objects, AtomicInteger conditional) throws IOException {
        String path = exchange.getRequestURI().getPath();
        exchange.getRequestBody().readAllBytes();
        boolean bucket = path.equals("/bucket");
        switch (exchange.getRequestMethod()) {
            case "HEAD" -> exchange.sendResponseHeaders(bucket || objects.contains(path) ? 200 : 404, -1);
            case "PUT" -> {
                if (exchange.getRequestHeaders().containsKey("If-None-Match")) {
                    conditional.incrementAndGet();
                    byte[] error = ("<Error><Code>NotImplemented</Code><Message>A header you provided implies "
                            + "functionality that is not implemented</Message></Error>").getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().add("Content-Type", "application/xml");
                    exchange.sendResponseHeaders(501, error.length);
                    exchange.getResponseBody().write(error);
                } else {
                    objects.add(path);
                    exchange.getResponseHeaders().add("ETag", "\"0\"");
                    exchange.sendResponseHeaders(200, -1);
                }
            }
            default -> exchange.sendResponseHeaders(405, -1);
        }
        exchange.close();
    }
}
