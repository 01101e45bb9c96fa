package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.node.sys.DeviceMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * One {@code strata standalone} process per test class (its start is what costs), kubelet's part
 * played over CSI, and runc containers. After each test every container is deleted and whatever the
 * test left published, staged or created is undone; nothing may stay mounted in kubelet's directories.
 * After the class the driver stops and nothing may stay mounted under its directory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class E2eFixture {
    DriverProcess driver;
    Kubelet kubelet;
    Runc runc;

    /** The driver's options beyond the harness's ({@code ${root}} is its directory). */
    String[] driverArgs() {
        return new String[0];
    }

    /** The standalone driver; the cluster variants return {@code DriverProcess.cluster(driverArgs())}. */
    DriverProcess newDriver() {
        return new DriverProcess(driverArgs());
    }

    /** Why the tests cannot run here, or null. */
    String unavailable() {
        return Runc.unavailable();
    }

    @BeforeAll
    void startDriver() throws IOException {
        String reason = unavailable();
        Assumptions.assumeTrue(reason == null, reason);
        driver = newDriver().start();
        kubelet = new Kubelet(driver);
        runc = new Runc(driver.root().resolve("runc"));
    }

    @AfterEach
    void deleteContainersAndUndo() {
        if (runc != null) {
            runc.deleteAll();
        }
        if (kubelet != null) {
            kubelet.cleanUp();
            assertEquals(List.of(), DriverProcess.mountsUnder(kubelet.dir()), "mounts left in kubelet's directories");
        }
    }

    @AfterAll
    void stopDriver() throws IOException {
        if (driver != null) {
            driver.close();
            afterDriverStopped();
        }
    }

    /** Clean-up of what outlives the driver process (device-mapper devices). */
    void afterDriverStopped() {
    }

    /** How long {@link #await} waits: longer under the VM's emulation. */
    private static final long AWAIT_NANOS = (System.getenv("STRATA_VM") != null ? 120L : 20L) * 1_000_000_000L;

    /** Waits (up to 20 s, 120 s in the VM) until nothing of the volume is left on the host, or fails saying what is. */
    void assertNothingLeftOf(String volumeId) {
        await(() -> leftovers(volumeId).isEmpty(), () -> "left of " + volumeId + ": " + leftovers(volumeId));
    }

    /** Mounts, files and directories (the trash included), device-mapper devices named after the volume. */
    List<String> leftovers(String volumeId) {
        List<String> found = new ArrayList<>();
        DriverProcess.mountsUnder(driver.root()).stream().filter(p -> p.toString().contains(volumeId))
                .forEach(p -> found.add("mount " + p));
        try (Stream<Path> walk = Files.walk(driver.dataDir())) {
            walk.filter(p -> p.getFileName().toString().contains(volumeId)).forEach(p -> found.add(p.toString()));
        } catch (IOException | UncheckedIOException e) {
            found.add(e.toString()); // the trash thread deleted something while we walked: look again
        }
        if (DeviceMapper.available()) {
            Runc.Result dm = Runc.run(List.of("dmsetup", "ls"));
            dm.stdout().lines().filter(l -> l.contains(volumeId)).forEach(l -> found.add("dm " + l));
        }
        return found;
    }

    static void await(BooleanSupplier condition, Supplier<String> message) {
        long deadline = System.nanoTime() + AWAIT_NANOS;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, message);
            sleep(50);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Asserts the container (or exec) ended with status 0 and printed exactly {@code stdout}. */
    static void assertSaw(String stdout, Runc.Result result) {
        assertEquals(0, result.exit(), result::toString);
        assertEquals(stdout, result.stdout(), result::toString);
    }
}
