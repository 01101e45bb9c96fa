package dev.strata.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link CsiSanityTest} on the thin engine, in the VM (device-mapper): ext4 on dm-thin volumes of a
 * pool the driver makes on sparse files. csi-sanity is the one the host stage built (the guest
 * chroots into this host's root and sees the same cache).
 */
@Tag("vm")
class CsiSanityVmTest {
    @Test
    void everySanitySpecPassesOnThin() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/mapper/control")),
                "needs device-mapper: run it in the VM, vm/README.md");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "csi-sanity mounts: needs root");
        Path sanity = CsiSanityTest.built();
        DriverProcess driver = new DriverProcess("--max-volumes-per-node", "4", "--thin-pool-dir", "${root}/pool",
                "--thin-pool-size", "20Gi", "--thin-overcommit", "20").start(); // sanity's volumes are 10 GiB
        try {
            CsiSanityTest.assertEverySpecPasses(sanity, "thin", driver);
        } finally {
            driver.close();
            // the pool and its loop devices outlive the driver by design: this run's are undone
            new ProcessBuilder(List.of("dmsetup", "--verifyudev", "remove_all")).inheritIO().start().waitFor();
            new ProcessBuilder(List.of("losetup", "-D")).inheritIO().start().waitFor();
        }
    }
}
