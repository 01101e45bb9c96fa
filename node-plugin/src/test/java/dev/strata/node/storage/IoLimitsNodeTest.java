package dev.strata.node.storage;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceNumber;
import dev.strata.node.sys.Posix;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * I/O limits on this host's real cgroup v1 blkio hierarchy, through the node's storage as
 * StorageOpener wires it: a dir volume with limits gets a loop device of its own, a publication at a
 * kubelet-shaped target writes the limits into its pod's cgroup and every container cgroup under it
 * (those made later too), ControllerModifyVolume changes them in place, and unpublishing lifts them.
 * The kernel enforcing them is measured with fio on the real cluster (RealClusterTest).
 */
class IoLimitsNodeTest {
    private static final Path BLKIO = StorageConfig.CGROUP_ROOT.resolve("blkio");

    @TempDir
    Path tmp;
    private NodeStorage storage;
    private StorageConfig config;
    private Path cgroupParent;
    private Path pod;
    private Path target;

    @BeforeEach
    void open() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: loop devices, mounts and cgroups");
        Assumptions.assumeTrue(Files.exists(BLKIO.resolve("blkio.throttle.write_bps_device")),
                "needs the cgroup v1 blkio hierarchy at " + BLKIO + " (v2 is PodCgroupsTest's, on a laid-out tree)");
        String uid = UUID.randomUUID().toString();
        cgroupParent = Files.createDirectories(BLKIO.resolve("strata-test-" + uid.substring(0, 8)));
        pod = Files.createDirectory(cgroupParent.resolve("pod" + uid));
        target = tmp.resolve("kubelet/pods/" + uid + "/volumes/kubernetes.io~csi/pvc-limited/mount");
        config = new StorageConfig(tmp.toRealPath().resolve("data"), "node-a", "dir", 64L << 20, 16);
        storage = open(config);
    }

    private NodeStorage open(StorageConfig c) throws IOException {
        return StorageOpener.open(c, new Mounter(), tmp.resolve("no-mapper-control"));
    }

    @AfterEach
    void close() throws Exception {
        if (storage != null) {
            storage.close();
        }
        if (cgroupParent != null) {
            try (var dirs = Files.walk(cgroupParent)) {
                for (Path d : dirs.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(d); // rmdir of an empty cgroup
                }
            }
        }
    }

    private VolumeRecord create(String name, Map<String, String> parameters) {
        return storage.provisioner().createVolume(new VolumeSpec(name, 64L << 20, 0, AccessType.MOUNT,
                Set.of(AccessMode.SINGLE_NODE_WRITER), parameters, Map.of(), null, List.of()));
    }

    @Test
    void limitsFollowThePodTheClassAndTheVolumeAttributesClass() throws Exception {
        VolumeRecord v = create("pvc-limited", Map.of("writeBytesPerSecond", "10Mi", "readIOPS", "200"));
        assertEquals("loop-ext4", v.attributes().get("sizeLimit"), "a limited volume has a device of its own");
        Path staging = tmp.resolve("staging");
        storage.volumes().stage(v.id(), staging, (t, r) -> AccessMode.SINGLE_NODE_WRITER, List.of(), VolumeKey.NONE);
        Path container = Files.createDirectory(pod.resolve("sandbox"));
        storage.volumes().publish(v.id(), staging, target, false, (t, r) -> AccessMode.SINGLE_NODE_WRITER, List.of());
        DeviceNumber loop = DeviceNumber.ofFilesystem(target);
        assertEquals(7, loop.major(), "the loop device: " + loop);
        for (Path cgroup : List.of(pod, container)) {
            assertEquals(10L << 20, limit(cgroup, "write_bps", loop), cgroup.toString());
            assertEquals(200, limit(cgroup, "read_iops", loop), cgroup.toString());
        }
        Path later = Files.createDirectory(pod.resolve("app")); // a container the runtime makes after the mount
        awaitLimit(later, "write_bps", loop, 10L << 20);

        storage.provisioner().modifyVolume(v.id(), Map.of("writeBytesPerSecond", "40Mi"));
        for (Path cgroup : List.of(pod, container, later)) {
            assertEquals(40L << 20, limit(cgroup, "write_bps", loop), "modified online: " + cgroup);
            assertEquals(200, limit(cgroup, "read_iops", loop), "the StorageClass's other limit stays");
        }
        storage.provisioner().modifyVolume(v.id(), Map.of("writeBytesPerSecond", "0", "readIOPS", "0"));
        assertEquals(0, limit(later, "write_bps", loop), "0 lifts a limit");
        assertEquals(0, limit(pod, "read_iops", loop));

        storage.provisioner().modifyVolume(v.id(), Map.of("writeIOPS", "300"));
        assertEquals(300, limit(container, "write_iops", loop));
        // A restart: the new node plugin holds the pod again, new containers included.
        storage.close();
        storage = open(config);
        Path afterRestart = Files.createDirectory(pod.resolve("sidecar"));
        awaitLimit(afterRestart, "write_iops", loop, 300);

        storage.volumes().unpublish(v.id(), target);
        for (Path cgroup : List.of(pod, container, later, afterRestart)) {
            assertEquals(0, limit(cgroup, "write_iops", loop), "unpublished: " + cgroup);
        }
        storage.volumes().unstage(v.id(), staging);
        storage.provisioner().deleteVolume(v.id());
    }

    @Test
    void badLimitsAreRefusedAndChangeNothing() throws Exception {
        assertCsi(Code.INVALID_ARGUMENT, "parameters.writeBytesPerSecond", () -> create("pvc-typo",
                Map.of("writeBytesPerSecond", "10")));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.sizeLimit", () -> create("pvc-shared-space",
                Map.of("sizeLimit", "none", "readIOPS", "100")));
        assertEquals(List.of(), storage.provisioner().listVolumes(), "nothing made");

        VolumeRecord unsized = create("pvc-unsized", Map.of("sizeLimit", "none"));
        assertCsi(Code.INVALID_ARGUMENT, "mutable_parameters.readIOPS", () -> storage.provisioner()
                .modifyVolume(unsized.id(), Map.of("readIOPS", "100")));
        assertCsi(Code.INVALID_ARGUMENT, "mutable_parameters.writeIOPS", () -> storage.provisioner()
                .modifyVolume(unsized.id(), Map.of("writeIOPS", "many")));
        assertEquals(Map.of(), storage.provisioner().listVolumes().get(0).mutableParameters(), "record unchanged");
        storage.provisioner().deleteVolume(unsized.id());
    }

    /** The cgroup's v1 limit of this kind on the device; 0 when it has none. */
    private static long limit(Path cgroup, String kind, DeviceNumber device) throws IOException {
        String prefix = device + " ";
        return Files.readAllLines(cgroup.resolve("blkio.throttle." + kind + "_device")).stream()
                .filter(l -> l.startsWith(prefix)).mapToLong(l -> Long.parseLong(l.substring(prefix.length())))
                .findFirst().orElse(0);
    }

    private static void awaitLimit(Path cgroup, String kind, DeviceNumber device, long expected) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Supplier<String> why = () -> cgroup + " did not get its pod's limit within 5 s";
        while (limit(cgroup, kind, device) != expected) {
            assertTrue(System.nanoTime() < deadline, why);
            Thread.sleep(20);
        }
    }
}
