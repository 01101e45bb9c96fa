package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A private directory under /var/tmp for tests that run the repository's scripts and jars
 * ({@code bin/quickstart}, {@code bin/strata}, {@code bin/stratactl}) as a user would: what the host
 * still holds of it (mounts, loop devices, processes), and the clean-up after a test, which fails
 * the test when something was left.
 */
final class HostRoot implements AutoCloseable {
    /** The repository: the e2e module's parent. */
    static final Path REPO = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();

    /** What a command printed (stdout and stderr together) and its exit status. */
    record Run(int exit, String output) {}

    final Path dir;

    HostRoot(String prefix) throws IOException {
        this.dir = Files.createTempDirectory(Path.of("/var/tmp"), prefix);
    }

    /** Skips the test, saying why, unless it can run: root (mounts) and the jars the build packages. */
    static void assumeRunnable() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: the driver mounts");
        for (String jar : List.of("driver/target/strata.jar", "cli/target/stratactl.jar")) {
            Assumptions.assumeTrue(Files.isRegularFile(REPO.resolve(jar)), REPO.resolve(jar)
                    + " is missing: run the build's package phase first (mvn -B package -DskipTests)");
        }
    }

    /** Runs a command to its end (at most {@code timeout}) with extra environment variables. */
    Run run(Map<String, String> env, Duration timeout, List<String> command) throws IOException {
        Path out = Files.createTempFile(dir, "out-", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                .directory(REPO.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                fail(command + " did not end within " + timeout + ":\n" + Files.readString(out));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return new Run(p.exitValue(), Files.readString(out));
    }

    /**
     * What the host still holds of this directory: mounts at or below it, loop devices backed by its
     * files, processes naming it.
     */
    List<String> leftovers() {
        List<String> found = new ArrayList<>();
        DriverProcess.mountsUnder(dir).forEach(m -> found.add("mount " + m));
        loopDevicesUnder().forEach(l -> found.add("loop device " + l));
        processesNaming().forEach(p -> found.add("process " + p.pid() + " " + commandLine(p)));
        return found;
    }

    void assertNothingLeft(String after) {
        assertEquals(List.of(), leftovers(), "left on the host after " + after);
    }

    private List<String> loopDevicesUnder() {
        try {
            Process p = new ProcessBuilder("losetup", "-nO", "NAME,BACK-FILE").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return text.lines().filter(l -> l.contains(" " + dir + "/")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Processes (other than this JVM) whose command line names this directory. */
    List<ProcessHandle> processesNaming() {
        return ProcessHandle.allProcesses().filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> commandLine(p).contains(dir.toString())).toList();
    }

    static String commandLine(ProcessHandle p) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
        } catch (IOException e) {
            return ""; // it ended
        }
    }

    /**
     * Kills what a failed test left running, unmounts what it left mounted, deletes the directory;
     * fails when anything was left.
     */
    @Override
    public void close() throws IOException {
        List<String> left = leftovers();
        processesNaming().forEach(ProcessHandle::destroyForcibly);
        DriverProcess.unmountAllUnder(dir);
        for (String loop : loopDevicesUnder()) {
            new ProcessBuilder("losetup", "-d", loop.split(" ")[0]).inheritIO().start();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
        if (!left.isEmpty()) {
            fail("the test left these behind (now removed): " + left);
        }
    }
}
