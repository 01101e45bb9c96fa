package dev.strata.node.iolimit;

import dev.strata.node.sys.DeviceNumber;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Pods' cgroups and the I/O controller's files in them, on cgroup v2 ({@code io.max}) and v1
 * ({@code blkio.throttle.*}). kubelet names a pod's cgroup {@code podUID} with the cgroupfs driver
 * and {@code kubepods-CLASS-podUID.slice} (dashes as underscores) with systemd's, under a root it is
 * configured with: the pod's is found by name, at most {@value #DEPTH} levels down.
 *
 * <p>v1 throttling is not hierarchical (a pod cgroup's limit does not reach its containers'
 * cgroups, measured on this kernel), so there every cgroup under the pod gets the limit as well.
 */
final class PodCgroups {
    private static final int DEPTH = 6;
    private static final String[] V1_FILES = {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
            "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};

    private final Path hierarchy;
    private final boolean unified;

    /** {@code root}: where the host's cgroup filesystems are mounted ({@code /sys/fs/cgroup}). */
    PodCgroups(Path root) {
        this.unified = Files.exists(root.resolve("cgroup.controllers"));
        this.hierarchy = unified ? root : root.resolve("blkio");
    }

    /** Whether limits on a pod's cgroup hold for its containers (v2), or each needs its own (v1). */
    boolean hierarchical() {
        return unified;
    }

    /** The hierarchy searched, for messages. */
    @Override
    public String toString() {
        return hierarchy.toString();
    }

    String version() {
        return unified ? "cgroup v2 io.max" : "cgroup v1 blkio.throttle";
    }

    Optional<Path> find(String podUid) throws IOException {
        String cgroupfs = "pod" + podUid;
        String systemd = "-pod" + podUid.replace('-', '_') + ".slice";
        Deque<Path> level = new ArrayDeque<>(List.of(hierarchy));
        for (int depth = 0; depth < DEPTH && !level.isEmpty(); depth++) {
            Deque<Path> next = new ArrayDeque<>();
            for (Path dir : level) {
                for (Path child : children(dir)) {
                    String name = child.getFileName().toString();
                    if (name.equals(cgroupfs) || name.endsWith(systemd)) {
                        return Optional.of(child);
                    }
                    next.add(child);
                }
            }
            level = next;
        }
        return Optional.empty();
    }

    /** The pod's cgroup and, on v1, every cgroup under it: where the limits are written. */
    List<Path> targets(Path pod) throws IOException {
        List<Path> all = new ArrayList<>(List.of(pod));
        if (!unified) {
            for (int i = 0; i < all.size(); i++) {
                all.addAll(children(all.get(i)));
            }
        }
        return all;
    }

    /** Sets the cgroup's limits on the device; {@link IoLimits#NONE} lifts them. */
    void write(Path cgroup, DeviceNumber device, IoLimits limits) throws IOException {
        if (unified) {
            control(cgroup.resolve("io.max"), device + " rbps=" + max(limits.readBytesPerSecond())
                    + " wbps=" + max(limits.writeBytesPerSecond()) + " riops=" + max(limits.readIops())
                    + " wiops=" + max(limits.writeIops()));
            return;
        }
        long[] values = v1Values(limits);
        for (int i = 0; i < V1_FILES.length; i++) {
            control(cgroup.resolve(V1_FILES[i]), device + " " + values[i]);
        }
    }

    /** Whether the cgroup holds exactly these limits on the device (the v1 sweep's check). */
    boolean holds(Path cgroup, DeviceNumber device, IoLimits limits) throws IOException {
        long[] values = v1Values(limits);
        String prefix = device + " ";
        for (int i = 0; i < V1_FILES.length; i++) {
            long current = read(cgroup.resolve(V1_FILES[i])).lines().filter(l -> l.startsWith(prefix))
                    .mapToLong(l -> Long.parseLong(l.substring(prefix.length()).strip())).findFirst().orElse(0);
            if (current != values[i]) {
                return false;
            }
        }
        return true;
    }

    private static long[] v1Values(IoLimits l) {
        return new long[] {l.readBytesPerSecond(), l.writeBytesPerSecond(), l.readIops(), l.writeIops()};
    }

    private static String max(long value) {
        return value == 0 ? "max" : Long.toString(value);
    }

    /**
     * One write of a cgroup control file. Not {@code AtomicFile}: the kernel applies each write as
     * it comes, and cgroupfs has no room for a temporary file to rename.
     */
    private static void control(Path file, String line) throws IOException {
        Files.writeString(file, line + "\n", StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
    }

    /** A cgroup's child cgroups; none when it has just gone (a container that exited). */
    private static List<Path> children(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }
}
