package dev.strata.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.cli.Cli.Result;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stratactl info}: which process serves the socket, and waiting for Probe rather than for a file. */
class InfoCommandTest {
    @TempDir
    Path tmp;

    @Test
    void namesTheDriverItsProcessNodeAndDataDirectory() throws Exception {
        Path socket = tmp.resolve("csi.sock");
        try (FakeCsiPlugin plugin = new FakeCsiPlugin(socket, true, tmp.resolve("data"))) {
            Result r = new Cli(socket).run("info");
            Cli.assertOk(r);
            assertEquals(List.of(
                    "Endpoint:   unix://" + socket,
                    "Pid:        " + ProcessHandle.current().pid(), // SO_PEERCRED: the plugin runs in this JVM
                    "Driver:     fake.csi.test 1.0",
                    "Ready:      true",
                    "Node:       fake-node",
                    "Data dir:   " + tmp.resolve("data")), r.lines());
        }
    }

    @Test
    void waitsForASocketThatAppearsLater() throws Exception {
        Path socket = tmp.resolve("late.sock");
        CompletableFuture<FakeCsiPlugin> later = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(500);
                return new FakeCsiPlugin(socket);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            Result r = new Cli(socket).run("info", "--wait", "30");
            Cli.assertOk(r);
            assertTrue(r.lines().contains("Ready:      true"), r.out());
        } finally {
            later.get(30, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void aSocketFileNobodyServesIsNotADriver() throws Exception {
        // What a killed driver leaves: the file is there, nothing listens on it.
        Path socket = tmp.resolve("stale.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        long start = System.nanoTime();
        Result r = new Cli(socket).run("info", "--wait", "1");
        assertTrue(System.nanoTime() - start >= 1_000_000_000L, "waited for the deadline");
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("stratactl: nothing answers on unix://" + socket + " after 1 s: UNAVAILABLE"),
                r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void noSocketAtAllSaysSo() {
        Result r = new Cli(tmp.resolve("none.sock")).run("info");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("stratactl: no CSI socket at " + tmp.resolve("none.sock")), r.err());
    }
}
