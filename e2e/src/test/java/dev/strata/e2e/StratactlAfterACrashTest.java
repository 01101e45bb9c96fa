package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.e2e.HostRoot.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code stratactl bench} killed with SIGKILL in mid-run leaves volumes created, staged and published
 * in directories only it knew. Another stratactl, with a state directory of its own (a new shell, as
 * after any crash), finds them in the driver's records: {@code umount} undoes a publication (and says
 * so when a path is not mounted), {@code volume rm} refuses a volume in use naming the command, and
 * {@code volume rm --force} removes the rest. Nothing stays mounted.
 */
class StratactlAfterACrashTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    DriverProcess driver;
    HostRoot host;

    @BeforeEach
    void start() throws IOException {
        HostRoot.assumeRunnable();
        driver = new DriverProcess().start();
        host = new HostRoot("stratactl-test-");
    }

    @AfterEach
    void stop() throws IOException {
        if (driver != null) {
            driver.close(); // fails when anything is still mounted under the driver's directory
        }
        if (host != null) {
            host.close();
        }
    }

    private Run stratactl(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(HostRoot.REPO.resolve("bin/stratactl").toString(),
                "--endpoint", "unix://" + driver.socket()));
        command.addAll(List.of(args));
        return host.run(Map.of("STRATACTL_STATE_DIR", host.dir.resolve("new-client").toString()), TIMEOUT, command);
    }

    @Test
    void anotherStratactlCleansUpAfterAKilledBench() throws Exception {
        Path records = driver.dataDir().resolve("records/node");
        ProcessBuilder pb = new ProcessBuilder(HostRoot.REPO.resolve("bin/stratactl").toString(), "--endpoint",
                "unix://" + driver.socket(), "bench", "lifecycle", "--volumes", "5000", "--concurrency", "4",
                "--workdir", driver.root().resolve("bench").toString())
                .redirectErrorStream(true).redirectOutput(host.dir.resolve("bench.log").toFile());
        pb.environment().put("STRATACTL_STATE_DIR", host.dir.resolve("bench-client").toString());
        Process bench = pb.start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (published(records).size() < 2) {
            assertTrue(bench.isAlive() && System.nanoTime() < deadline, () -> "bench: " + read("bench.log"));
            Thread.sleep(5);
        }
        bench.destroyForcibly().waitFor(); // bin/stratactl execs java: this is the JVM
        // The driver finishes the calls that were in flight; then its records are what stays.
        Thread.sleep(1000);

        List<JsonNode> inUse = published(records);
        assertFalse(inUse.isEmpty(), "the killed bench left published volumes");
        JsonNode first = inUse.get(0);
        String volume = first.get("volumeId").asText();
        String target = first.get("publications").get(0).get("targetPath").asText();
        assertTrue(DriverProcess.mountsUnder(driver.root()).contains(Path.of(target)));

        Run refused = stratactl("volume", "rm", volume);
        assertEquals(1, refused.exit(), refused::output);
        assertEquals("stratactl: remove " + volume + ": volume is in use, mounted at " + target + " (stratactl umount "
                + volume + " " + target + ", or stratactl volume rm --force " + volume + ")\n", refused.output());

        Run umount = stratactl("umount", volume, target);
        assertEquals(0, umount.exit(), umount::output);
        assertFalse(DriverProcess.mountsUnder(driver.root()).contains(Path.of(target)), "unmounted");
        assertFalse(Files.exists(records.resolve(volume + ".json")), "unstaged too: it was its only target");
        Run again = stratactl("umount", volume, target);
        assertEquals(1, again.exit(), again::output);
        assertEquals("stratactl: " + volume + " is not mounted at " + target
                + " (it is not mounted anywhere on this node)\n", again.output());

        Run ls = stratactl("volume", "ls", "-q");
        assertEquals(0, ls.exit(), ls::output);
        List<String> left = ls.output().lines().toList();
        assertFalse(left.isEmpty(), "the bench's volumes are listed");
        List<String> rm = new ArrayList<>(List.of("volume", "rm", "--force"));
        rm.addAll(left);
        Run forced = stratactl(rm.toArray(String[]::new));
        assertEquals(0, forced.exit(), forced::output);
        assertEquals(left, forced.output().lines().toList());

        assertEquals("", stratactl("volume", "ls", "-q").output());
        try (Stream<Path> files = Files.list(records)) {
            assertEquals(List.of(), files.toList(), "no volume staged or published");
        }
        assertEquals(List.of(), DriverProcess.mountsUnder(driver.root()));
    }

    /** The node's records of volumes published somewhere. */
    private static List<JsonNode> published(Path records) throws IOException {
        if (!Files.isDirectory(records)) {
            return List.of();
        }
        List<JsonNode> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(records)) {
            for (Path f : files.filter(f -> f.getFileName().toString().matches("vol-.*\\.json")).toList()) {
                try {
                    JsonNode n = JSON.readTree(f.toFile());
                    if (n.path("publications").size() > 0) {
                        found.add(n);
                    }
                } catch (IOException e) {
                    // removed while we listed
                }
            }
        }
        return found;
    }

    private String read(String file) {
        try {
            return Files.readString(host.dir.resolve(file));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
