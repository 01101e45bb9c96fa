package dev.strata.node.iolimit;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a callback as soon as a cgroup appears under one of the watched pods' cgroups (inotify on
 * cgroupfs, where the runtime's mkdir of a container's cgroup is an ordinary directory creation).
 * A watch that ends with its pod, or one that could not be set up, costs only the latency of the
 * once-a-second sweep.
 */
final class PodWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PodWatch.class);

    private final WatchService service;
    private final Set<Path> watched = ConcurrentHashMap.newKeySet();
    private final Runnable onCreate;

    private PodWatch(WatchService service, Runnable onCreate) {
        this.service = service;
        this.onCreate = onCreate;
    }

    static PodWatch start(Runnable onCreate) {
        WatchService service;
        try {
            service = FileSystems.getDefault().newWatchService();
        } catch (IOException e) {
            LOG.warn("no inotify watch for new containers' cgroups ({}): the sweep alone applies their I/O limits", e);
            service = null;
        }
        PodWatch watch = new PodWatch(service, onCreate);
        if (service != null) {
            Thread t = new Thread(watch::run, "strata-io-limits-watch");
            t.setDaemon(true);
            t.start();
        }
        return watch;
    }

    void add(Path pod) {
        if (service == null || !watched.add(pod)) {
            return;
        }
        try {
            pod.register(service, StandardWatchEventKinds.ENTRY_CREATE);
        } catch (IOException e) {
            watched.remove(pod);
            LOG.debug("no watch on {}: {}", pod, e.toString());
        }
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = service.take();
                key.pollEvents();
                if (!key.reset()) {
                    watched.remove((Path) key.watchable()); // the pod's cgroup went
                }
                onCreate.run();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    @Override
    public void close() {
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                LOG.debug("closing the cgroup watch: {}", e.toString());
            }
        }
    }
}
