package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An S3 server that stops reading a request: the HTTP client has no timeout on a write, and the
 * server's kernel keeps the connection open, so without a limit on each request an upload waited
 * for ever (a put of 32 MiB still waited after 14 minutes). With the limit (two minutes; two
 * seconds here, through {@value S3Location#ATTEMPT_TIMEOUT_PROPERTY}) the put fails, after the SDK's
 * retries, as a target that cannot be reached. The server here is a socket, not S3: it answers the
 * HEAD that opens a target and then reads nothing.
 */
class S3StalledServerTest {
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    private ServerSocket server;

    @BeforeEach
    void start() throws IOException {
        System.setProperty(S3Location.ATTEMPT_TIMEOUT_PROPERTY, "PT2S");
        server = new ServerSocket();
        server.setReceiveBufferSize(4096); // the put's bytes fill the socket's buffers at once
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "stalled-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void stop() throws IOException {
        System.clearProperty(S3Location.ATTEMPT_TIMEOUT_PROPERTY);
        server.close();
        for (Socket s : held) {
            s.close();
        }
    }

    @Test
    void aPutToAServerThatStopsReadingFailsInsteadOfWaitingForEver() throws Exception {
        String url = "s3://bucket/p?endpoint=http://127.0.0.1:" + server.getLocalPort() + "&region=us-east-1";
        BackupTarget target = BackupTarget.open(url, new BackupSecrets("id", "secret", null, null, null));
        // On its own thread: a put that hangs cannot be interrupted, and must not hang the test.
        java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Void> put = CompletableFuture.runAsync(() -> {
            try {
                target.put("packs/stalled", new byte[32 << 20]);
            } catch (IOException e) {
                interrupted.set(Thread.currentThread().isInterrupted());
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            put.get(90, TimeUnit.SECONDS);
            fail("a put that nothing read succeeded");
        } catch (TimeoutException e) {
            fail("the put still waits after 90 s: nothing limits a request");
        } catch (ExecutionException e) {
            IOException failed = assertInstanceOf(java.io.UncheckedIOException.class, e.getCause()).getCause();
            assertTrue(failed.getMessage().startsWith("cannot write packs/stalled in " + url), failed.getMessage());
            System.out.println("[stalled] " + failed.getMessage());
            // the SDK stops a request by interrupting its thread: a flag left set would read, to an
            // upload, as a delete that stopped it
            assertFalse(interrupted.get(), "the putting thread is left interrupted");
        }
    }

    private void accept() {
        try {
            while (true) {
                Socket s = server.accept();
                held.add(s);
                Thread serving = new Thread(() -> answerHeadsOnly(s), "stalled-connection");
                serving.setDaemon(true);
                serving.start();
            }
        } catch (IOException closed) {
            // the test is over
        }
    }

    /** Answers a HEAD (the bucket's check) with 200; at anything else, stops reading, and never answers. */
    private static void answerHeadsOnly(Socket s) {
        try {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (readHead(in).startsWith("HEAD")) {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            Thread.sleep(Long.MAX_VALUE); // the socket stays open, its input unread (a daemon thread)
        } catch (IOException | InterruptedException closed) {
            // the client or the test closed it
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        for (int c = in.read(); c >= 0; c = in.read()) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.toString();
            }
        }
        throw new IOException("closed");
    }
}
