package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.sys.DeviceMapper;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool that cannot be activated leaves no loop device behind. On a kernel without device-mapper
 * (this host), where the files attach but the pool's table cannot be loaded: a node plugin that
 * tried there once per restart left two loop devices each time, bound to files an uninstall deleted.
 */
class ThinPoolActivationTest {
    private final CommandRunner runner = new CommandRunner();

    @Test
    void aPoolThatCannotBeActivatedDetachesItsLoopDevices(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: loop devices");
        Assumptions.assumeFalse(DeviceMapper.available(),
                "this kernel has device-mapper: the pool would activate (ThinEngineVmTest covers that)");
        ThinPoolConfig config = ThinPoolConfig.files(dir.resolve("pool"), 64L << 20, 1);
        ThinPool pool = new ThinPool(config, new Dmsetup(runner), runner);
        boolean hadControlNode = Files.exists(DeviceMapper.CONTROL);

        IOException e;
        try {
            e = assertThrows(IOException.class, pool::activate);
        } finally {
            // dmsetup's library makes the control node wherever it is missing, driver or not: leave none behind
            if (!hadControlNode) {
                Files.deleteIfExists(DeviceMapper.CONTROL);
            }
        }

        assertTrue(e.getMessage().contains("thin-pool"), "the failure is the pool's table: " + e.getMessage());
        for (Path file : new Path[] {config.metadata(), config.data()}) {
            assertTrue(Files.exists(file), "the pool file " + file + " was made (and attached)");
            assertEquals("", runner.run("losetup", "-j", file.toString(), "-n", "-O", "NAME").stdout().strip(),
                    "no loop device stays bound to " + file);
        }
    }
}
