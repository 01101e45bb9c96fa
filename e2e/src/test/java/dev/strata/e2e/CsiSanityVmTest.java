package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.node.sys.DeviceMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link CsiSanityTest} on the thin engine, in the VM (device-mapper): ext4 on dm-thin volumes of a
 * pool the driver makes on sparse files. csi-sanity is the one the host built (the e2e module's
 * vm.before; the guest chroots into this host's root and sees the same cache).
 *
 * <p>One run, on encrypted volumes with a remote snapshot class: it goes through every step a plain
 * thin volume takes (pool, thin device, filesystem, snapshots, clones, expansion) and the mapping and
 * the upload besides. Under emulation a sanity run on thin takes five to nine minutes; a second, plain
 * one added little that {@code ThinScenariosVmTest} and the node plugin's {@code ThinEngineVmTest}
 * (unencrypted volumes published, snapshotted, restored, cloned, expanded and deleted) do not check.
 */
@Tag("vm")
class CsiSanityVmTest {
    /**
     * Encrypted thin volumes (issue 18): every volume sanity stages is formatted with the key of the
     * node-stage secret, and its snapshots and clones open with it; the key reaches no log. Every
     * snapshot is a remote one too (issue 16): thin volumes back up block by block, and an encrypted
     * one's backup is its ciphertext.
     */
    @Test
    void everySanitySpecPassesOnEncryptedThinWithARemoteSnapshotClass() throws Exception {
        String key = "sanity-" + java.util.UUID.randomUUID();
        onThin((sanity, driver) -> {
            Path secrets = Files.writeString(driver.root().resolve("secrets.yaml"),
                    "NodeStageVolumeSecret:\n  encryptionKey: " + key + "\n");
            Path snapshotParameters = Files.writeString(driver.root().resolve("snapshot-parameters.yaml"),
                    "backupTarget: file://" + driver.root().resolve("backups") + "\n");
            CsiSanityTest.assertEverySpecPasses(sanity, "thin", "encrypted: \"true\"\n", driver,
                    List.of("--csi.secrets=" + secrets, "--csi.testsnapshotparameters=" + snapshotParameters));
            String log = Files.readString(driver.root().resolve("driver-1.log"));
            assertTrue(log.contains("NodeStageVolume"), "the driver's log holds no NodeStageVolume");
            assertTrue(log.contains("stored in file://"), "no snapshot was uploaded");
            assertFalse(log.contains(key), "the key is in the driver's log");
        });
    }

    private interface SanityRun {
        void run(Path sanity, DriverProcess driver) throws Exception;
    }

    private static void onThin(SanityRun run) throws Exception {
        Assumptions.assumeTrue(DeviceMapper.available(),
                "needs device-mapper: run it in the VM, vm/README.md");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "csi-sanity mounts: needs root");
        Path sanity = CsiSanityTest.built();
        DriverProcess driver = new DriverProcess("--max-volumes-per-node", "4", "--thin-pool-dir", "${root}/pool",
                "--thin-pool-size", "20Gi", "--thin-overcommit", "20").start(); // sanity's volumes are 10 GiB
        try {
            run.run(sanity, driver);
        } finally {
            driver.close();
            // the pool and its loop devices outlive the driver by design: this run's are undone
            new ProcessBuilder(List.of("dmsetup", "--verifyudev", "remove_all")).inheritIO().start().waitFor();
            new ProcessBuilder(List.of("losetup", "-D")).inheritIO().start().waitFor();
        }
    }
}
