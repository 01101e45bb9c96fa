package dev.strata.node.engine.thin;

import static dev.strata.node.engine.thin.ThinPoolScratch.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.model.AccessType;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.iolimit.IoLimits;
import dev.strata.node.iolimit.IoThrottle;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.sys.DeviceNumber;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * I/O limits of a thin volume on cgroup v2, in the VM (Debian's kernel, whose io controller is free
 * for a cgroup2 mount of the test's own): the pod's {@code io.max} names the thin device, and a
 * process in the pod's cgroup writing to the device directly is held to the limit.
 */
@Tag("vm")
@Timeout(600)
class ThinIoLimitsVmTest {
    @TempDir
    Path tmp;

    private ThinPoolScratch scratch;
    private ThinEngine engine;
    private Path cgroups;
    private Path pod;

    @BeforeEach
    void poolAndCgroup2() throws IOException {
        scratch = new ThinPoolScratch(tmp);
        engine = scratch.open(512 * MIB, 1);
        cgroups = Files.createDirectories(tmp.resolve("cgroup2"));
        Assumptions.assumeTrue(scratch.runner.run("mount", "-t", "cgroup2", "none", cgroups.toString()).ok(),
                "needs a cgroup2 mount");
        Path kubepods = Files.createDirectory(cgroups.resolve("kubepods"));
        Assumptions.assumeTrue(enableIo(cgroups) && enableIo(kubepods),
                "the io controller is bound to a cgroup v1 hierarchy here");
        pod = Files.createDirectory(kubepods.resolve("pod" + UUID.randomUUID()));
    }

    private static boolean enableIo(Path cgroup) {
        try {
            Files.writeString(cgroup.resolve("cgroup.subtree_control"), "+io\n");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @AfterEach
    void removeEverything() throws IOException {
        if (pod != null) {
            Files.deleteIfExists(pod);
            Files.deleteIfExists(pod.getParent());
        }
        if (cgroups != null) {
            scratch.runner.run("umount", cgroups.toString());
        }
        if (scratch != null) {
            scratch.removeEverything();
        }
    }

    @Test
    void aPodIsHeldToItsLimitOnTheThinDevice() throws Exception {
        VolumeRecord v = ThinPoolScratch.volume("vol-limited", 64 * MIB, AccessType.BLOCK, null,
                Map.of(IoLimits.WRITE_BPS, "8Mi"));
        engine.create(v);
        Path staging = Files.createDirectory(tmp.resolve("staging"));
        engine.stage(v, staging, BindOptions.NONE);
        DeviceNumber device = engine.ioDevice(v).orElseThrow();
        Path node = Path.of(ThinEngine.devicePath(v.id()));
        assertEquals(DeviceNumber.ofDevice(node), device, "the thin device");

        String uid = pod.getFileName().toString().substring("pod".length());
        Path target = Path.of("/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-1", uid);
        try (IoThrottle throttle = new IoThrottle(cgroups)) {
            throttle.limit(target, device, IoLimits.of(v));
            assertEquals(device + " rbps=max wbps=8388608 riops=max wiops=max", ioMax(device));

            long started = System.nanoTime();
            var dd = scratch.runner.run("sh", "-c", "echo $$ > " + pod.resolve("cgroup.procs")
                    + " && exec dd if=/dev/zero of=" + node + " bs=1M count=24 oflag=direct");
            double seconds = (System.nanoTime() - started) / 1e9;
            assertTrue(dd.ok(), dd.stderr());
            System.out.printf("[vm] 24 MiB of direct writes under an 8 MiB/s io.max: %.2f s (%.1f MiB/s)%n", seconds,
                    24 / seconds);
            // A throttle is a floor on the time (less the kernel's first slice): nothing can beat it.
            assertTrue(seconds > 2.0, "24 MiB at 8 MiB/s took only " + seconds + " s");

            throttle.lift(target);
            assertEquals("", ioMax(device), "lifted: the kernel drops an all-max line");
        }
        engine.unstage(v, staging);
        engine.delete(v.id());
    }

    private String ioMax(DeviceNumber device) throws IOException {
        return Files.readAllLines(pod.resolve("io.max")).stream().filter(l -> l.startsWith(device + " "))
                .findFirst().orElse("");
    }
}
