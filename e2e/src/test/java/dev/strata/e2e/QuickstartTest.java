package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.e2e.HostRoot.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/quickstart} as a newcomer runs it, as root, and again, and {@code --down}: from a clean
 * run, after {@code kill -9} of its driver with a volume mounted, after its client was killed half
 * way, and while another driver holds its socket. Each test has its own socket, data and work
 * directories under /var/tmp (QUICKSTART_*), never the defaults, and the jars the build made
 * (QUICKSTART_BUILD=0). After each {@code --down} nothing may be left: no mount, loop device or process.
 */
class QuickstartTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(4);

    HostRoot host;
    Path socket;
    Path data;
    Path work;

    @BeforeEach
    void setUp() throws IOException {
        HostRoot.assumeRunnable();
        host = new HostRoot("quickstart-test-");
        socket = host.dir.resolve("run/csi.sock");
        data = host.dir.resolve("data");
        work = host.dir.resolve("work");
    }

    @AfterEach
    void tearDown() throws IOException {
        if (host != null) {
            host.close();
        }
    }

    /** This test's paths; bin/quickstart never runs here without them (its defaults are the machine's). */
    private Map<String, String> environment() {
        return Map.of("QUICKSTART_SOCKET", socket.toString(), "QUICKSTART_DATA_DIR", data.toString(),
                "QUICKSTART_WORK_DIR", work.toString(), "QUICKSTART_BUILD", "0");
    }

    private Run quickstart(String... args) throws IOException {
        return host.run(environment(), TIMEOUT,
                Stream.concat(Stream.of(HostRoot.REPO.resolve("bin/quickstart").toString()), Stream.of(args)).toList());
    }

    private static void assertOk(Run r) {
        assertEquals(0, r.exit(), r::output);
    }

    private long driverPid() throws IOException {
        return Long.parseLong(Files.readString(work.resolve("driver.pid")).strip());
    }

    /**
     * The quick start's mounts: both volumes staged, and published at app and restored; and in the
     * driver's data directory each volume's own filesystem, which holds it to its size.
     */
    private void assertSessionMounted() {
        List<Path> mounts = DriverProcess.mountsUnder(host.dir);
        assertTrue(mounts.containsAll(List.of(work.resolve("app"), work.resolve("restored"))), mounts::toString);
        assertEquals(4, mounts.stream().filter(p -> !p.startsWith(data)).count(), mounts::toString);
        assertEquals(2, mounts.stream().filter(p -> p.startsWith(data.resolve("engines/dir/volumes"))).count(),
                mounts::toString);
    }

    /** --down ends with nothing of the quick start's on the host, and its directories gone. */
    private void assertDownLeavesNothing() throws IOException {
        Run down = quickstart("--down");
        assertOk(down);
        assertTrue(down.output().contains("== done: no driver, no volume, no mount of the quick start's is left"),
                down::output);
        host.assertNothingLeft("--down");
        assertFalse(Files.exists(work), "work directory removed");
        assertFalse(Files.exists(data), "data directory removed");
        assertFalse(Files.exists(socket.getParent()), "socket directory removed");
    }

    @Test
    void aCleanRunThenDown() throws IOException {
        Run up = quickstart();
        assertOk(up);
        assertTrue(up.output().contains("install-deps: all present for runtime"), up::output);
        assertTrue(up.output().contains("== the driver (pid " + driverPid() + ") is ready"), up::output);
        // from its own copy of the jar, which no later build rewrites under it
        assertTrue(HostRoot.commandLine(ProcessHandle.of(driverPid()).orElseThrow())
                .contains(" -jar " + work.resolve("strata.jar") + " standalone "), "runs from its copy");
        assertSessionMounted();
        assertEquals("changed after the snapshot\n", Files.readString(work.resolve("app/index.html")));
        assertEquals("hello from a strata volume\n", Files.readString(work.resolve("restored/index.html")));
        assertTrue(up.output().matches("(?s).*\\$ stratactl snapshot ls.*\nwebdata-snap +snap-.*"), up::output);
        assertTrue(up.output().contains("export CSI_ENDPOINT=unix://" + socket + " STRATACTL_STATE_DIR=" + work
                + "/stratactl\n"), up::output);
        assertTrue(up.output().contains("QUICKSTART_SOCKET=" + socket + " QUICKSTART_DATA_DIR=" + data
                + " QUICKSTART_WORK_DIR=" + work + " " + HostRoot.REPO + "/bin/quickstart --down\n"), up::output);

        // Again with the driver running: the same driver, the same volumes, nothing deleted.
        Files.writeString(work.resolve("app/mine.txt"), "mine\n");
        long pid = driverPid();
        Run again = quickstart();
        assertOk(again);
        assertTrue(again.output().contains("the driver an earlier run started (pid " + pid + ") still runs"),
                again::output);
        assertEquals("mine\n", Files.readString(work.resolve("app/mine.txt")));
        assertSessionMounted();

        assertDownLeavesNothing();
        Run nothing = quickstart("--down");
        assertOk(nothing);
        assertTrue(nothing.output().contains("== nothing to tear down"), nothing::output);
    }

    @Test
    void aRunAfterKill9OfTheDriverKeepsWhatIsInTheMountedVolume() throws Exception {
        assertOk(quickstart());
        Files.writeString(work.resolve("app/mine.txt"), "written before the kill\n");
        long killed = driverPid();
        kill9(killed);
        assertTrue(Files.exists(socket), "a killed driver leaves its socket file");
        assertSessionMounted();

        Run again = quickstart();
        assertOk(again);
        assertTrue(again.output().contains("a socket file nobody answers on is at " + socket), again::output);
        assertNotEquals(killed, driverPid());
        assertEquals("written before the kill\n", Files.readString(work.resolve("app/mine.txt")));
        assertSessionMounted();

        kill9(driverPid());
        assertDownLeavesNothing(); // starts a driver to undo through, then stops it
    }

    @Test
    void downAfterItsClientWasKilledHalfWay() throws Exception {
        // Killed (the script and its stratactl) as soon as the driver has staged the first volume.
        ProcessBuilder pb = new ProcessBuilder(HostRoot.REPO.resolve("bin/quickstart").toString())
                .redirectErrorStream(true).redirectOutput(host.dir.resolve("up.log").toFile())
                .directory(HostRoot.REPO.toFile());
        pb.environment().putAll(environment());
        Process up = pb.start();
        Path records = data.resolve("records/node");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!staged(records)) {
            assertTrue(up.isAlive() && System.nanoTime() < deadline, () -> "never staged: " + read("up.log"));
            Thread.sleep(10);
        }
        long driver = driverPid();
        List<ProcessHandle> client = Stream.concat(Stream.of(up.toHandle()), up.descendants())
                .filter(h -> h.pid() != driver).toList();
        client.forEach(ProcessHandle::destroyForcibly);
        up.waitFor();
        assertTrue(ProcessHandle.of(driver).map(ProcessHandle::isAlive).orElse(false), "the driver still runs");
        // The driver finishes the call its killed client made: the staging mount follows its record.
        while (DriverProcess.mountsUnder(work).isEmpty()) { // not the volume's own filesystem, in data
            assertTrue(System.nanoTime() < deadline, "the killed client's staging was never mounted");
            Thread.sleep(10);
        }

        assertDownLeavesNothing();
    }

    @Test
    void refusedWhileAnotherDriverHoldsItsSocketAndNothingIsTouched() throws Exception {
        Path otherData = host.dir.resolve("other-data");
        Files.createDirectories(socket.getParent());
        Process other = new ProcessBuilder("java", "-jar", HostRoot.REPO.resolve("driver/target/strata.jar").toString(),
                "standalone", "--endpoint", "unix://" + socket, "--data-dir", otherData.toString())
                .redirectErrorStream(true).redirectOutput(host.dir.resolve("other.log").toFile()).start();
        try {
            Run info = host.run(Map.of(), TIMEOUT, List.of(HostRoot.REPO.resolve("bin/stratactl").toString(),
                    "--endpoint", "unix://" + socket, "info", "--wait", "120"));
            assertOk(info);
            Run created = host.run(Map.of(), TIMEOUT, List.of(HostRoot.REPO.resolve("bin/stratactl").toString(),
                    "--endpoint", "unix://" + socket, "volume", "create", "theirs"));
            assertOk(created);
            Set<Path> before = tree(otherData);

            for (String[] args : List.of(new String[0], new String[] {"--down"})) {
                Run refused = quickstart(args);
                assertEquals(1, refused.exit(), refused::output);
                assertTrue(refused.output().startsWith("quickstart: another driver serves " + socket
                        + "; nothing was changed.\n"), refused::output);
                assertTrue(refused.output().contains("Pid:        " + other.pid() + "\n"), refused::output);
                assertTrue(refused.output().contains("Driver:     strata.csi.dev "), refused::output);
                assertTrue(refused.output().contains("--data-dir " + otherData), refused::output);
                assertTrue(other.isAlive());
                assertEquals(before, tree(otherData));
                assertFalse(Files.exists(work), "no work directory made");
                assertFalse(Files.exists(data), "no data directory made");
                // Nothing mounted but the other driver's own: its volume's filesystem.
                assertEquals(List.of(), DriverProcess.mountsUnder(host.dir).stream()
                        .filter(p -> !p.startsWith(otherData)).toList());
            }
        } finally {
            other.destroy();
            other.waitFor(60, TimeUnit.SECONDS);
        }
        host.assertNothingLeft("the other driver stopped");
    }

    private static boolean staged(Path records) throws IOException {
        if (!Files.isDirectory(records)) {
            return false;
        }
        try (Stream<Path> files = Files.list(records)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".json"));
        }
    }

    private static void kill9(long pid) throws Exception {
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
        h.destroyForcibly();
        h.onExit().get(30, TimeUnit.SECONDS);
    }

    private static Set<Path> tree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.collect(Collectors.toSet());
        }
    }

    private String read(String file) {
        try {
            return Files.readString(host.dir.resolve(file));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
