package dev.strata.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.function.Executable;

/**
 * The driver as a separate JVM ({@code strata standalone}), the way it runs in production, so that a
 * test can kill it for real: at a crash point ({@code -Dstrata.crash-at}), which halts the process with
 * status 137 as {@code kill -9} would, or with SIGTERM. Each process logs to its own file under the
 * test directory; failures quote the end of it.
 */
public final class ProcessHarness extends CsiCalls {
    /** Under the VM's software emulation a start (JVM, recovery, thin_check) takes several times longer. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(System.getenv("STRATA_VM") != null ? 300 : 60);

    private Process process;
    private Path log;
    private Connection connection;
    private int started;
    private final List<String> extraArgs = new ArrayList<>();
    private final List<String> mode = new ArrayList<>(List.of("standalone"));

    /**
     * The subcommand and its own options, instead of {@code standalone}: {@code node --kube-api URL}
     * runs the node plugin of a cluster on this harness's socket and data directory.
     */
    public ProcessHarness withMode(String... command) {
        mode.clear();
        mode.addAll(List.of(command));
        return this;
    }

    /** More options for every driver process this harness starts (e.g. a thin pool). */
    public ProcessHarness withArgs(String... args) {
        extraArgs.addAll(List.of(args));
        return this;
    }

    @Override
    public ManagedChannel channel() {
        return connection.channel();
    }

    /** The one host directory the driver allows hostpath volumes under. */
    public Path hostRoot() {
        return root().resolve("host");
    }

    /** Starts a driver process and waits until its Probe answers ready. */
    @Override
    public void start() throws IOException {
        launch(null);
    }

    /** Starts a driver process that halts when it reaches {@code crashPoint}; waits until it is ready. */
    public void startCrashingAt(String crashPoint) throws IOException {
        launch(crashPoint);
    }

    /** Stops the driver with SIGTERM and waits for it to exit; returns its exit status. */
    public int terminate() {
        disconnect();
        if (process == null) {
            return -1;
        }
        process.destroy();
        int status = waitForExit();
        process = null;
        return status;
    }

    /** After a test: SIGTERM, and SIGKILL when that is not enough. */
    @Override
    public void stop() {
        disconnect();
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        process = null;
    }

    /**
     * Makes a call that reaches the crash point: the call must fail as the connection drops, and the
     * process must die with status 137. The next driver is started with {@link #start()}.
     */
    public void assertCrashes(Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call,
                () -> "the call did not fail; the driver should have crashed\n" + logTail());
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), () -> "call failed with " + e.getStatus()
                + ", not as a dropped connection\n" + logTail());
        disconnect();
        assertEquals(137, waitForExit(), this::logTail);
        assertTrue(logTail().contains("crash point"), this::logTail);
        process = null;
    }

    private void launch(String crashPoint) throws IOException {
        if (process != null) {
            throw new IllegalStateException("a driver process is already running");
        }
        log = root().resolve("driver-" + (++started) + ".log");
        List<String> args = new ArrayList<>(mode);
        args.addAll(List.of("--endpoint", "unix://" + socket(), "--data-dir", dataDir().toString(),
                "--node-id", Csi.NODE_ID, "--drain-timeout", "5",
                "--hostpath-root", Files.createDirectories(hostRoot()).toString()));
        args.addAll(extraArgs.stream().map(a -> a.replace("${root}", root().toString())).toList());
        process = StrataProcess.start(crashPoint, args, log);
        StrataProcess.awaitReady("the driver", process, socket(), START_TIMEOUT, this::logTail);
        connection = new Connection(socket());
    }

    private int waitForExit() {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                fail("the driver did not exit within 30 s\n" + logTail());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private void disconnect() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    /** The last lines the current driver process wrote. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return "---- " + log + " (last lines) ----\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
