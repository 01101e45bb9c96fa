package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.strata.testkit.ProcessHarness;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The driver as a process: it starts from the command line and shuts down cleanly on SIGTERM. */
class ProcessLifecycleTest {
    @RegisterExtension
    final ProcessHarness driver = new ProcessHarness();

    @Test
    void sigtermExitsZeroAndRemovesTheSocket() {
        String id = driver.createVolume("pvc-1").getVolumeId();
        assertEquals(java.util.List.of(id), driver.listVolumeIds());
        assertEquals(0, driver.terminate(), driver::logTail);
        assertFalse(Files.exists(driver.socket()), "the socket file is still there");
    }
}
