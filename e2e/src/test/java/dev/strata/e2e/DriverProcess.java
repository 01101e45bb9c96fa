package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.NodeGrpc;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MockCluster;
import dev.strata.testkit.MountInfo;
import dev.strata.testkit.ProcessHarness;
import dev.strata.testkit.StrataProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The testkit's {@link ProcessHarness} for the e2e tests: {@code strata standalone} as a real
 * process, started once per test class on a fresh directory under /var/tmp, killed with SIGKILL and
 * restarted on the same data.
 */
public final class DriverProcess implements AutoCloseable {
    private final ProcessHarness harness;
    /** In cluster mode: the API server, and the controller plugin's process and connection. */
    private MockCluster api;
    private Process controllerProcess;
    private CsiCalls.Connection controllerConnection;

    /** A driver with these extra options; {@code ${root}} stands for its test directory. */
    public DriverProcess(String... args) {
        this.harness = new ProcessHarness().withArgs(args);
    }

    /**
     * A cluster in place of the standalone driver: fabric8's mock API server in this JVM, the
     * controller plugin ({@code strata controller}) and the node plugin ({@code strata node}) as
     * processes. Controller calls go to the one, Node calls to the other; kill9 kills the node plugin.
     */
    public static DriverProcess cluster(String... args) {
        DriverProcess d = new DriverProcess(args);
        d.api = new MockCluster();
        d.harness.withMode("node", "--kube-api", d.api.url(), "--resync", "5");
        return d;
    }

    /** Makes a fresh test directory and starts the driver there; returns when Probe says ready. */
    public DriverProcess start() throws IOException {
        harness.beforeEach(null);
        if (api != null) {
            startController();
        }
        return this;
    }

    private void startController() throws IOException {
        Path socket = root().resolve("controller.sock");
        Path log = root().resolve("controller.log");
        controllerProcess = StrataProcess.start(null, List.of("controller", "--kube-api", api.url(), "--endpoint",
                "unix://" + socket, "--drain-timeout", "2"), log);
        // The socket answers before the informers have synced: Probe says ready once they have.
        StrataProcess.awaitReady("the controller plugin", controllerProcess, socket, Duration.ofSeconds(120),
                () -> StrataProcess.read(log));
        controllerConnection = new CsiCalls.Connection(socket);
    }

    /**
     * Stops the driver (SIGTERM), unmounts and deletes the test directory, and fails when anything
     * was still mounted under it.
     */
    @Override
    public void close() throws IOException {
        if (controllerConnection != null) {
            controllerConnection.close();
        }
        if (controllerProcess != null) {
            controllerProcess.destroy();
            try {
                controllerProcess.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            harness.afterEach(null);
        } finally {
            if (api != null) {
                api.close();
            }
        }
    }

    /** {@code kill -9} of the running driver process, as the OOM killer or a node crash would do. */
    public void kill9() {
        // the driver's command line names its data directory (read from /proc: ProcessHandle.Info may
        // leave out long command lines)
        Optional<ProcessHandle> driver = ProcessHandle.current().children()
                .filter(p -> commandLine(p).contains("\0" + harness.dataDir() + "\0")).findFirst();
        driver.orElseThrow(() -> new AssertionError("no driver process\n" + harness.logTail())).destroyForcibly();
        // reaps the dead process: SIGTERM to a dead process does nothing; 137 is SIGKILL's status
        assertEquals(137, harness.terminate(), harness::logTail);
    }

    private static String commandLine(ProcessHandle p) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
        } catch (IOException e) {
            return ""; // it ended
        }
    }

    /** Starts a new driver process on the same directory (after {@link #kill9()}). */
    public void restart() throws IOException {
        harness.start();
    }

    public Path root() {
        return harness.root();
    }

    public Path dataDir() {
        return harness.dataDir();
    }

    /** The connection to the node's socket, for calls the stubs cannot make (raw bytes). */
    public io.grpc.ManagedChannel channel() {
        return harness.channel();
    }

    /** Makes {@code calls} on a connection of their own to the node's socket, closed after. */
    public <T> T onNewConnection(java.util.function.Function<io.grpc.ManagedChannel, T> calls) {
        try (CsiCalls.Connection c = new CsiCalls.Connection(harness.socket())) {
            return calls.apply(c.channel());
        }
    }

    /** The node's socket (the standalone driver's only one). */
    public Path socket() {
        return harness.socket();
    }

    /** The host directory the driver allows hostpath volumes under (--hostpath-root). */
    public Path hostRoot() {
        return harness.hostRoot();
    }

    public ControllerGrpc.ControllerBlockingStub controller() {
        if (controllerConnection != null) {
            return ControllerGrpc.newBlockingStub(controllerConnection.channel()).withDeadlineAfter(60,
                    java.util.concurrent.TimeUnit.SECONDS);
        }
        return harness.controller();
    }

    public NodeGrpc.NodeBlockingStub node() {
        return harness.node();
    }

    /** Mount points at or below {@code dir}. */
    public static List<Path> mountsUnder(Path dir) {
        return MountInfo.under(dir);
    }

    /** Lazily unmounts everything at or below {@code dir} (a failed test's leftovers); returns what was there. */
    public static List<Path> unmountAllUnder(Path dir) {
        return MountInfo.unmountAllUnder(dir);
    }

    public String logTail() {
        return harness.logTail();
    }
}
