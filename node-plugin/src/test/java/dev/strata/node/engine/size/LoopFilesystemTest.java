package dev.strata.node.engine.size;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.FailingOnce;
import dev.strata.node.engine.MountScratch;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The loop filesystem's hazards, with real loop devices on this host's filesystem. */
@Timeout(120)
class LoopFilesystemTest {
    @RegisterExtension
    final MountScratch scratch = new MountScratch("loop devices and mounts");

    private final Mounter mounter = new Mounter();
    private final CommandRunner runner = new CommandRunner();
    private String strayDevice;

    @AfterEach
    void detachTheStrayDevice() {
        if (strayDevice != null) {
            runner.run("losetup", "-d", strayDevice);
        }
    }

    /**
     * A loop device stays listed for its image for a moment after the unmount that frees it has
     * returned, and mounting it then fails ("can't read superblock"): a volume opened again at once
     * (as CreateVolume does, after its rename) met that under load. Here a device bound to the
     * image at an offset, where no filesystem starts, stands for one being cleared; it goes after a
     * second, and the volume is mounted from a device of its own.
     */
    @Test
    void aLoopDeviceBeingClearedIsWaitedOut() throws Exception {
        LoopFilesystem loop = new LoopFilesystem(mounter, runner);
        SizeLimit.Limited v = new SizeLimit.Limited(Files.createDirectories(scratch.dir().resolve("home")),
                scratch.dir().resolve("tree"));
        loop.create(v, "vol-new", 32L << 20);
        loop.close(v);
        Path image = v.home().resolve("disk.img");
        strayDevice = runner.run("losetup", "-f", "--show", "-o", "4096", image.toString()).stdout().strip();
        assertTrue(strayDevice.startsWith("/dev/loop"), strayDevice);
        Thread clearing = new Thread(() -> {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            runner.run("losetup", "-d", strayDevice);
        });
        clearing.start();

        loop.open(v);
        clearing.join();

        String source = MountTable.read().at(v.tree()).orElseThrow().source();
        assertEquals("0", runner.run("losetup", "-n", "-O", "OFFSET", source).stdout().strip(),
                "mounted from a device of its own, not the one bound at an offset");
        assertEquals("vol-new", runner.run("e2label", source).stdout().strip(), "the volume's own filesystem");
        strayDevice = null;
    }

    /**
     * A growth whose resize2fs fails (or is killed) after the image grew leaves a small filesystem
     * in a big image. Its retry found the image big enough and answered that the volume grew, and
     * nothing grew the filesystem after.
     */
    @Test
    void aGrowthCutOffAfterTheImageGrewIsFinishedByItsRetry() throws Exception {
        LoopFilesystem loop = new LoopFilesystem(mounter, runner);
        SizeLimit.Limited v = new SizeLimit.Limited(Files.createDirectories(scratch.dir().resolve("home")),
                scratch.dir().resolve("tree"));
        loop.create(v, "vol-grow", 32L << 20);
        loop.open(v);
        Path image = v.home().resolve("disk.img");

        FailingOnce resize = new FailingOnce("resize2fs");
        assertThrows(IOException.class, () -> new LoopFilesystem(mounter, resize).expand(v, 64L << 20));
        assertTrue(resize.hasFailed(), "the growth reached its resize2fs");
        assertEquals(64L << 20, Files.size(image), "the image grew");
        assertEquals(32L << 20, filesystemBytes(image), "its filesystem did not");

        loop.expand(v, 64L << 20);
        loop.close(v);
        assertEquals(64L << 20, filesystemBytes(image), "the retry grew the filesystem");
    }

    private long filesystemBytes(Path image) {
        String header = runner.run("dumpe2fs", "-h", image.toString()).check().stdout();
        return field(header, "Block count") * field(header, "Block size");
    }

    private static long field(String header, String name) {
        return header.lines().filter(l -> l.startsWith(name + ":")).map(l -> Long.parseLong(l.split(":")[1].strip()))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " in " + header));
    }
}
