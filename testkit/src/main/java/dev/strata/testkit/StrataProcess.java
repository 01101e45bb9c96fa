package dev.strata.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.csi.v1.IdentityGrpc;
import dev.strata.csi.v1.ProbeRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The {@code strata} executable as a child JVM on the test's class path (any subcommand), logging to
 * a file, and the wait until its Probe says ready: what the process harnesses of the driver and e2e
 * tests share. The main class is named, not linked, so the testkit does not depend on the driver:
 * the test's class path must hold the driver module (a test dependency on it).
 */
public final class StrataProcess {
    /** The {@code strata} executable's main class, in the driver module. */
    private static final String MAIN_CLASS = "dev.strata.driver.StrataMain";

    private StrataProcess() {}

    /**
     * Starts {@code strata ARGS...}, halting at {@code crashPoint} (null: never), its output appended
     * to {@code log}. It starts with umask 000, the loosest a supervisor could give it: nothing the
     * driver makes may depend on the umask it inherits, and every process test checks that in passing.
     */
    public static Process start(String crashPoint, List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "umask 000 && exec \"$0\" \"$@\"",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // A short-lived JVM: start fast rather than run fast.
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"));
        if (crashPoint != null) {
            command.add("-Dstrata.crash-at=" + crashPoint);
        }
        command.addAll(List.of("-cp", classPath(), MAIN_CLASS));
        command.addAll(args);
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /**
     * Waits for the socket, then for Probe to say ready (a plugin serves before it is ready: its
     * storage opening, its informers syncing). A socket file left by a killed process may be there
     * before the new one replaces it, so each try is on a fresh connection. Fails, quoting
     * {@code logs}, when the process exits or the time is up.
     */
    public static void awaitReady(String what, Process process, Path socket, Duration timeout,
            Supplier<String> logs) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail(what + " exited with status " + process.exitValue() + " while starting\n" + logs.get());
            }
            if (Files.exists(socket)) {
                try (CsiCalls.Connection c = new CsiCalls.Connection(socket)) {
                    if (IdentityGrpc.newBlockingStub(c.channel()).withDeadlineAfter(2, TimeUnit.SECONDS)
                            .probe(ProbeRequest.getDefaultInstance()).getReady().getValue()) {
                        return;
                    }
                } catch (StatusRuntimeException e) {
                    // refused: a stale socket, or not yet listening
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        fail(what + " was not ready after " + timeout.toSeconds() + " s\n" + logs.get());
    }

    /**
     * The test's class path: java.class.path under surefire; under JUnit's console launcher (the VM
     * stage) the classes come from the launcher's own class loader, so its URLs.
     */
    private static String classPath() {
        ClassLoader loader = StrataProcess.class.getClassLoader();
        if (loader instanceof java.net.URLClassLoader urls && urls.getURLs().length > 0) {
            List<String> paths = new ArrayList<>();
            for (java.net.URL url : urls.getURLs()) {
                try {
                    paths.add(Path.of(url.toURI()).toString());
                } catch (java.net.URISyntaxException e) {
                    throw new IllegalStateException(e);
                }
            }
            return String.join(java.io.File.pathSeparator, paths);
        }
        return System.getProperty("java.class.path");
    }

    /** The file's text, or why there is none (for failure messages). */
    public static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
