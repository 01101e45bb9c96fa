package dev.strata.node.storage;

import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.engine.hostpath.HostPathEngine;
import dev.strata.node.engine.hostpath.HostPaths;
import dev.strata.node.engine.overlay.OverlayEngine;
import dev.strata.node.engine.thin.ThinEngine;
import dev.strata.node.iolimit.IoThrottle;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import dev.strata.node.sys.DeviceMapper;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Makes a node's engines from its settings and opens its storage, as standalone and node plugin both do. */
public final class StorageOpener {
    private static final Logger LOG = LoggerFactory.getLogger(StorageOpener.class);

    private StorageOpener() {}

    /**
     * Opens the records and engines, then finishes or undoes whatever a crash interrupted. A thin pool
     * on a kernel without device-mapper leaves the thin engine out, with the reason (the node still
     * serves its other engines: one DaemonSet runs on every node, and not every kernel has dm-thin).
     */
    public static NodeStorage open(StorageConfig config, Mounter mounter) throws IOException {
        return open(config, mounter, DeviceMapper.CONTROL);
    }

    static NodeStorage open(StorageConfig config, Mounter mounter, Path deviceMapper) throws IOException {
        // Volumes' data lives below: no one but root may even look (a pod reaches its volume through
        // its own mount, whatever this directory's mode).
        Files.createDirectories(config.dataDir());
        Posix.chmod(config.dataDir(), 0700);
        CommandRunner runner = new CommandRunner();
        Path engineRoot = config.dataDir().resolve("engines");
        Map<String, VolumeEngine> engines = new HashMap<>(Map.of(
                DirEngine.NAME, new DirEngine(engineRoot.resolve(DirEngine.NAME), mounter, runner),
                DirEngine.SHARED, DirEngine.shared(engineRoot.resolve(DirEngine.SHARED), mounter, runner),
                OverlayEngine.NAME, new OverlayEngine(engineRoot.resolve(OverlayEngine.NAME), mounter, runner),
                HostPathEngine.NAME, new HostPathEngine(engineRoot.resolve(HostPathEngine.NAME),
                        new HostPaths(config.hostPathRoots()), mounter, runner)));
        Map<String, String> unavailable = new TreeMap<>();
        if (config.thinPool() != null) {
            new CommandRunner().run("modprobe", "dm-thin-pool"); // best effort: the check below says what is missing
            if (DeviceMapper.opens(deviceMapper)) {
                engines.put(ThinEngine.NAME, new ThinEngine(engineRoot.resolve(ThinEngine.NAME), config.thinPool(),
                        mounter, runner));
            } else {
                String why = "this kernel has no device-mapper (" + deviceMapper + " is missing or opens no "
                        + "driver, and modprobe dm-thin-pool did not load it); the thin pool is not made and thin "
                        + "volumes cannot be created on this node";
                LOG.warn("the thin engine is unavailable: {}", why);
                unavailable.put(ThinEngine.NAME, why);
            }
        }
        EphemeralPolicy inline = config.ephemeral();
        if (inline.enabled() && !engines.containsKey(inline.engine())) {
            throw new IOException("--ephemeral-engine " + inline.engine() + " is not an engine of this node (configured: "
                    + String.join(", ", new java.util.TreeSet<>(engines.keySet())) + "; or none)");
        }
        MountRecords mountRecords = new MountRecords(config.dataDir().resolve("records").resolve("node"));
        mountRecords.reconcile(MountTable.read());
        LockTable locks = new LockTable();
        Engines running = new Engines(engines, unavailable);
        IoThrottle throttle = new IoThrottle(config.cgroupRoot());
        LocalStorage storage = new LocalStorage(config, running, mountRecords, locks, throttle);
        try {
            storage.recover();
        } catch (IOException | RuntimeException e) {
            // The engines hold directories open and run threads: a storage that does not open lets them go.
            try {
                running.close();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
        NodeVolumes volumes = new NodeVolumes(config, storage, running, mountRecords, locks, mounter, throttle);
        volumes.limitPublishedIo();
        return new NodeStorage(storage, volumes, running, locks);
    }
}
