package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import dev.strata.node.engine.thin.ThinPoolConfig;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceMapper;
import dev.strata.node.sys.Posix;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node DaemonSet passes a thin pool to every node, and not every kernel has device-mapper (this
 * host has none). `strata node` used to refuse to start there, so such a node served nothing at
 * all; now it serves its other engines and says why thin is out.
 */
class StorageOpenerTest {
    @Test
    void aThinPoolOnAKernelWithoutDeviceMapperLeavesOnlyTheThinEngineOut(@TempDir Path dir) throws IOException {
        StorageConfig config = new StorageConfig(dir.resolve("data"), "node-a", "dir", StorageConfig.GIB, 16,
                List.of(dir.resolve("host")), ThinPoolConfig.files(dir.resolve("data/thin-pool"), 1L << 30, 1.0));
        Engines engines = StorageOpener.open(config, new Mounter(), dir.resolve("no-mapper-control")).engines();

        assertEquals(Set.of("dir", "shared", "overlay", "hostpath"), engines.all().stream()
                .map(e -> e.traits().name()).collect(Collectors.toSet()), "all but thin still serve");
        String why = engines.unavailable().get("thin");
        assertTrue(why != null && why.contains("no device-mapper"), "the reason: " + why);
        CsiException e = assertThrows(CsiException.class, () -> engines.get("thin"));
        assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
        assertTrue(e.getMessage().contains("no device-mapper"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("data/thin-pool/data")), "no pool file is made for nothing");
    }

    @Test
    void withoutAThinPoolNothingIsUnavailable(@TempDir Path dir) throws IOException {
        StorageConfig config = new StorageConfig(dir.resolve("data"), "node-a", "dir", StorageConfig.GIB, 16);
        Engines engines = StorageOpener.open(config, new Mounter(), dir.resolve("no-mapper-control")).engines();
        assertTrue(engines.unavailable().isEmpty());
        assertEquals(Code.INVALID_ARGUMENT, assertThrows(CsiException.class, () -> engines.get("thin")).code());
    }

    /**
     * libdevmapper makes /dev/mapper/control wherever it is missing, also where the kernel has no
     * driver behind it (cryptsetup did so on this host once, and every node plugin after it tried to
     * make its pool and exited): such a node is no device-mapper.
     */
    @Test
    void aControlNodeWithNoDriverBehindItIsNoDeviceMapper(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: mknod");
        Path control = dir.resolve("control");
        Process mknod = new ProcessBuilder("mknod", control.toString(), "c", "10", "236").inheritIO().start();
        assertEquals(0, mknod.waitFor(), "mknod");
        Assumptions.assumeFalse(DeviceMapper.opens(control), "this kernel has device-mapper: its control node opens");
        StorageConfig config = new StorageConfig(dir.resolve("data"), "node-a", "dir", StorageConfig.GIB, 16,
                List.of(dir.resolve("host")), ThinPoolConfig.files(dir.resolve("data/thin-pool"), 1L << 30, 1.0));

        Engines engines = StorageOpener.open(config, new Mounter(), control).engines();

        String why = engines.unavailable().get("thin");
        assertTrue(why != null && why.contains("opens no driver"), "the reason: " + why);
        assertEquals(4, engines.all().size(), "the other engines serve");
        assertFalse(Files.exists(dir.resolve("data/thin-pool/data")), "no pool file is made for nothing");
    }
}
