package dev.strata.node.iolimit;

import dev.strata.common.CsiException;
import dev.strata.node.sys.DeviceNumber;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds pods to their volumes' I/O limits through the cgroup I/O controller. A limit is keyed to the
 * volume's own block device and written into the cgroup of the pod whose target it is published at.
 * Each call converges when repeated, and holds nothing that a restart loses: the limits live in the
 * kernel, and the node plugin calls {@link #limit} again for every publication when it starts.
 *
 * <p>On cgroup v1 a pod's containers start after their volumes are published, and a limit on the pod
 * does not reach them: a watch (inotify) on each held pod's cgroup writes the limits into a
 * container's cgroup as soon as the runtime makes it, before the runtime starts the container's
 * process in it, and a sweep once a second catches whatever the watch missed.
 */
public final class IoThrottle implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IoThrottle.class);
    private static final long SWEEP_MILLIS = 1000;

    /** One publication held to limits: its pod's cgroup, the device, the limits. */
    private record Held(Path pod, DeviceNumber device, IoLimits limits) {}

    private final PodCgroups cgroups;
    private final Map<Path, Held> byTarget = new ConcurrentHashMap<>();
    /** v1 only, started with the first limit: a node that limits nothing runs no thread and no watch. */
    private ScheduledExecutorService sweeper;
    private PodWatch watch;

    /** {@code cgroupRoot}: where the host's cgroup filesystems are mounted ({@code /sys/fs/cgroup}). */
    public IoThrottle(Path cgroupRoot) {
        this.cgroups = new PodCgroups(cgroupRoot);
    }

    private void startSweeping() {
        if (cgroups.hierarchical() || sweeper != null) {
            return;
        }
        watch = PodWatch.start(this::sweep);
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-io-limits");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Holds the pod that {@code target} belongs to to {@code limits} on {@code device} (callers
     * {@link #lift} rather than pass NONE). A target outside kubelet's pods (stratactl's) has no pod,
     * and nothing to hold. A pod whose cgroup is not there yet gets UNAVAILABLE: kubelet makes it
     * before it publishes, and retries.
     */
    public synchronized void limit(Path target, DeviceNumber device, IoLimits limits) throws IOException {
        Optional<String> uid = PodOfTarget.uid(target);
        if (uid.isEmpty()) {
            LOG.info("{} belongs to no pod kubelet laid out: its I/O limits ({}) are not enforced", target, limits);
            return;
        }
        Path pod = cgroups.find(uid.get()).orElseThrow(() -> new CsiException(Status.Code.UNAVAILABLE, "the cgroup of "
                + "pod " + uid.get() + " (target_path) is not under " + cgroups + " yet; its I/O limits need it"));
        for (Path cgroup : cgroups.targets(pod)) {
            cgroups.write(cgroup, device, limits);
        }
        byTarget.put(target, new Held(pod, device, limits));
        startSweeping();
        if (watch != null) {
            watch.add(pod);
        }
        LOG.info("pod {}: {} on device {} ({})", uid.get(), limits, device, cgroups.version());
    }

    /** Lifts the limits {@link #limit} set for {@code target}; nothing when there are none. */
    public synchronized void lift(Path target) throws IOException {
        Held held = byTarget.remove(target);
        if (held == null) {
            return;
        }
        for (Path cgroup : cgroups.targets(held.pod())) {
            try {
                cgroups.write(cgroup, held.device(), IoLimits.NONE);
            } catch (java.nio.file.NoSuchFileException gone) {
                // the pod (or a container of it) has gone, and its limits with it
            }
        }
    }

    /** v1: gives every cgroup under a held pod (new containers) the pod's limits. */
    synchronized void sweep() {
        for (Held held : byTarget.values()) {
            try {
                for (Path cgroup : cgroups.targets(held.pod())) {
                    if (!cgroups.holds(cgroup, held.device(), held.limits())) {
                        cgroups.write(cgroup, held.device(), held.limits());
                    }
                }
            } catch (IOException | RuntimeException e) {
                // A container that exits between the listing and the write: the next sweep sees it gone.
                LOG.debug("I/O limits sweep of {}: {}", held.pod(), e.toString());
            }
        }
    }

    @Override
    public synchronized void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
            watch.close();
        }
    }
}
