package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.node.sys.Posix;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MountInfo;
import dev.strata.testkit.ProcessHarness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the kill -9 scenarios of a standalone driver share ({@link CrashRecoveryTest} for volumes,
 * snapshots and mounts, {@link BackupCrashRecoveryTest} for backups): each sets up state, makes the
 * driver process halt at one crash point inside a call (as {@code kill -9} would, between two
 * steps of an operation), starts it again and checks that the operation was finished or undone; then
 * everything it left must still delete cleanly.
 */
abstract class CrashScenarioFixture {
    @RegisterExtension
    final ProcessHarness driver = new ProcessHarness();

    /** One part of a scenario: state to crash in, the call that crashes, or the checks after restart. */
    interface Step {
        void run() throws Exception;
    }

    record Scenario(Step setup, Step crash, Step verify) {}

    String volumeId;
    String sourceId;

    @BeforeAll
    static void needsRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
    }

    abstract Scenario scenario(String crashPoint);

    /**
     * Runs the crash point's scenario, then deletes everything and checks nothing remains. The crash
     * points are the test class's own static {@code crashPoints()}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("crashPoints")
    void operationIsFinishedOrUndoneAfterACrashAt(String crashPoint) throws Exception {
        Scenario scenario = scenario(crashPoint);
        scenario.setup().run(); // on the driver the harness started
        driver.terminate();
        driver.startCrashingAt(crashPoint);
        driver.assertCrashes(scenario.crash()::run);
        driver.start();
        scenario.verify().run();
        deleteEverything();
    }

    Path overlayDir(String kind) {
        return driver.dataDir().resolve("engines/overlay").resolve(kind);
    }

    static void writeFiles(Path dir) throws IOException {
        Files.writeString(dir.resolve("a.txt"), "a");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/b.txt"), "b".repeat(100_000));
    }

    static void assertFiles(Path dir) throws IOException {
        assertEquals("a", Files.readString(dir.resolve("a.txt")));
        assertEquals("b".repeat(100_000), Files.readString(dir.resolve("sub/b.txt")));
    }

    /** The trash is emptied in the background after a start; give it up to 10 s. */
    static void awaitEmptyTrash(Path trash) throws InterruptedException {
        for (int i = 0; i < 200 && !CsiCalls.names(trash).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), CsiCalls.names(trash), "the trash was not emptied");
    }

    /** Unpublishes, unstages and deletes whatever the scenario left, then checks nothing remains. */
    private void deleteEverything() throws InterruptedException {
        for (String id : driver.listVolumeIds()) {
            driver.unpublish(id, driver.target("pod-1"));
            driver.unstage(id);
        }
        for (String id : driver.listSnapshotIds()) {
            driver.deleteSnapshot(id);
        }
        for (String id : driver.listVolumeIds()) {
            driver.deleteVolume(id);
        }
        assertEquals(List.of(), driver.listVolumeIds());
        assertEquals(List.of(), driver.listSnapshotIds());
        assertEquals(List.of(), CsiCalls.names(driver.volumesDir()));
        assertEquals(List.of(), CsiCalls.names(driver.snapshotsDir()));
        awaitEmptyTrash(driver.trashDir());
        awaitEmptyTrash(overlayDir("trash")); // an overlay volume's filesystem is unmounted there
        assertEquals(List.of(), MountInfo.under(driver.root()), "mounts left under the test directory");
    }
}
