package dev.strata.node.iolimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.node.sys.DeviceNumber;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where kubelet's pod cgroups are and what goes into their files, on trees laid out as cgroupfs
 * shows them (the real v1 hierarchy is IoThrottleTest's). Plain files stand for the kernel's.
 */
class PodCgroupsTest {
    private static final String UID = "0f8e6c1a-3b2d-4c5e-9f70-1a2b3c4d5e6f";
    private static final DeviceNumber LOOP3 = new DeviceNumber(7, 3);

    @TempDir
    Path root;

    @Test
    void v2WritesOneIoMaxLineOnThePodWithMaxForNoLimit() throws IOException {
        Files.writeString(root.resolve("cgroup.controllers"), "cpu io memory pids\n");
        Path pod = cgroup(root.resolve("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + UID.replace('-', '_') + ".slice"), "io.max");
        cgroup(pod.resolve("cri-containerd-abc.scope"), "io.max");
        PodCgroups cgroups = new PodCgroups(root);
        assertTrue(cgroups.hierarchical(), "v2 limits on the pod hold for its containers");
        assertEquals(Optional.of(pod), cgroups.find(UID), "systemd's slice naming");
        assertEquals(List.of(pod), cgroups.targets(pod));
        cgroups.write(pod, LOOP3, new IoLimits(0, 10L << 20, 100, 0));
        assertEquals("7:3 rbps=max wbps=10485760 riops=100 wiops=max\n", Files.readString(pod.resolve("io.max")));
    }

    @Test
    void v1WritesEveryThrottleFileOfThePodAndEachCgroupUnderIt() throws IOException {
        String[] files = {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
        Path pod = cgroup(root.resolve("blkio/strata-cluster/kubepods/besteffort/pod" + UID), files);
        Path container = cgroup(pod.resolve("0123abcd"), files);
        cgroup(root.resolve("blkio/strata-cluster/kubepods/besteffort/podother"), files);
        PodCgroups cgroups = new PodCgroups(root);
        assertFalse(cgroups.hierarchical(), "v1 throttling does not reach a pod's containers from the pod");
        assertEquals(Optional.of(pod), cgroups.find(UID), "cgroupfs naming, under kubelet's cgroup root");
        assertEquals(List.of(pod, container), cgroups.targets(pod));
        IoLimits limits = new IoLimits(1L << 20, 2L << 20, 30, 40);
        cgroups.write(container, LOOP3, limits);
        assertEquals("7:3 2097152\n", Files.readString(container.resolve("blkio.throttle.write_bps_device")));
        assertEquals("7:3 30\n", Files.readString(container.resolve("blkio.throttle.read_iops_device")));
        assertTrue(cgroups.holds(container, LOOP3, limits));
        assertFalse(cgroups.holds(pod, LOOP3, limits), "the pod's files were not written");
        cgroups.write(container, LOOP3, IoLimits.NONE);
        assertEquals("7:3 0\n", Files.readString(container.resolve("blkio.throttle.write_bps_device")));
    }

    @Test
    void aPodWithoutACgroupIsNotFound() throws IOException {
        Files.createDirectories(root.resolve("blkio/kubepods"));
        assertEquals(Optional.empty(), new PodCgroups(root).find(UID));
    }

    private static Path cgroup(Path dir, String... files) throws IOException {
        Files.createDirectories(dir);
        for (String f : files) {
            Files.writeString(dir.resolve(f), "");
        }
        return dir;
    }
}
