package dev.strata.node.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceMapper;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves the test VM (vm/README.md) gives what the thin engine needs: a kernel with dm-thin, loop
 * devices, and a thin pool on two sparse files that holds a filesystem. The pattern to copy for a
 * device-mapper test: tag it "vm", run every tool through {@link CommandRunner}, name devices
 * uniquely, and undo everything in {@link AfterEach} even when the test failed half way.
 */
@Tag("vm")
class VmKernelTest {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;
    /**
     * There is no udev in the VM, and without it plain dmsetup leaves /dev/mapper/NAME to udev, so
     * nothing makes it; --verifyudev makes dmsetup create (and remove) the node itself when udev
     * did not. Where udev runs it changes nothing.
     */
    private static final List<String> DMSETUP = List.of("dmsetup", "--verifyudev");

    @TempDir
    Path tmp;

    private final CommandRunner runner = new CommandRunner();
    private final Mounter mounter = new Mounter();
    private final String name = "strata-vmtest-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<String> devices = new ArrayList<>();
    private final List<String> loops = new ArrayList<>();
    private Path mountPoint;

    @BeforeEach
    void needsDeviceMapper() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: device-mapper and loop devices");
        Assumptions.assumeTrue(DeviceMapper.available(),
                "needs device-mapper (/dev/mapper/control): run it in the VM, vm/README.md");
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (mountPoint != null) {
            mounter.unmount(mountPoint);
        }
        for (int i = devices.size() - 1; i >= 0; i--) {
            dmsetup("remove", devices.get(i));
        }
        for (String loop : loops) {
            runner.run("losetup", "--detach", loop);
        }
    }

    @Test
    void kernelHasThinTargets() {
        String targets = runner.run("dmsetup", "targets").check().stdout();
        assertTrue(targets.lines().anyMatch(l -> l.startsWith("thin-pool ")), targets);
        assertTrue(targets.lines().anyMatch(l -> l.startsWith("thin ")), targets);
    }

    @Test
    void thinPoolOnSparseFilesHoldsAFilesystem() throws IOException {
        String data = attachLoop(sparseFile("data.img", GIB));
        String metadata = attachLoop(sparseFile("metadata.img", 64 * MIB));
        String pool = name + "-pool";
        // data block size 128 sectors (64 KiB), low-water mark 0, no zeroing of new blocks
        create(pool, "0 " + sectors(data) + " thin-pool " + metadata + " " + data + " 128 0 1 skip_block_zeroing");
        assertEquals(0, usedDataBlocks(pool));

        dmsetup("message", pool, "0", "create_thin 0").check();
        String thin = name + "-thin";
        create(thin, "0 " + (2 * GIB / 512) + " thin /dev/mapper/" + pool + " 0");
        Path device = Path.of("/dev/mapper", thin);
        assertTrue(Files.exists(device), device + " was not created");

        runner.run("mkfs.ext4", "-q", device.toString()).check();
        mountPoint = Files.createDirectory(tmp.resolve("mnt"));
        mounter.mount(device.toString(), mountPoint, "ext4", 0, null);
        byte[] payload = new byte[(int) (8 * MIB)];
        new Random(42).nextBytes(payload);
        Files.write(mountPoint.resolve("payload"), payload);
        mounter.unmount(mountPoint);

        mounter.mount(device.toString(), mountPoint, "ext4", 0, null);
        assertTrue(Arrays.equals(payload, Files.readAllBytes(mountPoint.resolve("payload"))),
                "what was written is read back after a remount");
        mounter.unmount(mountPoint);
        mountPoint = null;
        // 8 MiB of data alone takes 128 blocks of 64 KiB; the pool's data file is only 1 GiB
        // while the thin device is 2 GiB: blocks are provisioned as they are written.
        long used = usedDataBlocks(pool);
        assertTrue(used >= 128 && used < 16384, "used data blocks: " + used);

        dmsetup("remove", thin).check();
        devices.remove(thin);
        assertFalse(Files.exists(device), device + " is still there after remove");
        dmsetup("message", pool, "0", "delete 0").check();
        assertEquals(0, usedDataBlocks(pool), "deleting the thin device frees its blocks");
    }

    private Path sparseFile(String fileName, long size) throws IOException {
        Path file = tmp.resolve(fileName);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
        return file;
    }

    private String attachLoop(Path file) {
        String loop = runner.run("losetup", "--find", "--show", file.toString()).check().stdout().strip();
        loops.add(loop);
        return loop;
    }

    private long sectors(String blockDevice) {
        return Long.parseLong(runner.run("blockdev", "--getsz", blockDevice).check().stdout().strip());
    }

    private void create(String device, String table) {
        dmsetup("create", device, "--table", table).check();
        devices.add(device);
    }

    /** Field 5 of a thin-pool's status line is used/total data blocks. */
    private long usedDataBlocks(String pool) {
        String status = dmsetup("status", pool).check().stdout().strip();
        String[] fields = status.split(" ");
        assertEquals("thin-pool", fields[2], status);
        return Long.parseLong(fields[5].substring(0, fields[5].indexOf('/')));
    }

    private CommandRunner.Result dmsetup(String... args) {
        List<String> command = new ArrayList<>(DMSETUP);
        command.addAll(List.of(args));
        return runner.run(command);
    }
}
