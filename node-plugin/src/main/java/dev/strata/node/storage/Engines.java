package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.node.engine.StaticVolumes;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.thin.ThinEngine;
import io.grpc.Status;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The engines this node runs, by name, and those it is configured for but cannot run here (with the
 * reason). Asking for an engine it does not have is the caller's error when no node could run it, and
 * RESOURCE_EXHAUSTED with the reason when this node cannot. Reporters (metrics, the node's status)
 * read the engines from here; storage work goes through {@link LocalStorage} and {@link NodeVolumes}.
 */
public final class Engines {
    private final Map<String, VolumeEngine> running;
    private final Map<String, String> unavailable;

    public Engines(Map<String, VolumeEngine> running, Map<String, String> unavailable) {
        this.running = new ConcurrentHashMap<>(running);
        this.unavailable = new ConcurrentHashMap<>(unavailable);
    }

    /**
     * From now on {@code name} answers as an engine this node cannot run, with {@code why}: one that
     * failed to start, whose failure must not take the other engines' volumes down with it. Only at
     * start, before calls are served.
     */
    void cannotRun(String name, String why) {
        running.remove(name);
        unavailable.put(name, why);
    }

    public VolumeEngine get(String name) {
        VolumeEngine engine = running.get(name);
        if (engine == null && unavailable.containsKey(name)) {
            throw new CsiException(Status.Code.RESOURCE_EXHAUSTED, "the " + name + " engine cannot run on this node: "
                    + unavailable.get(name));
        }
        if (engine == null) {
            // The one engine a driver runs only when told how: say how, as the hostpath engine does.
            String hint = ThinEngine.NAME.equals(name) ? "; the thin engine needs a dm-thin pool: start the driver "
                    + "with --thin-pool-dir DIR (or --thin-data DEVICE --thin-metadata DEVICE)" : "";
            throw CsiException.invalidArgument("parameters." + LocalStorage.ENGINE_PARAMETER, "unknown engine \""
                    + name + "\" (configured: " + String.join(", ", new TreeSet<>(running.keySet())) + ")" + hint);
        }
        return engine;
    }

    /** The engine that claims {@code volumeId} as a handle of its own, if one does. */
    Optional<StaticVolumes> claiming(String volumeId) {
        return running.values().stream().filter(e -> e instanceof StaticVolumes sv && sv.claims(volumeId))
                .map(StaticVolumes.class::cast).findFirst();
    }

    boolean contains(String name) {
        return running.containsKey(name);
    }

    public Collection<VolumeEngine> all() {
        return running.values();
    }

    Collection<String> names() {
        return running.keySet();
    }

    /** Engines this node is configured for but cannot run, and why. */
    public Map<String, String> unavailable() {
        return Map.copyOf(unavailable);
    }

    /** Lets every engine finish its background work; called after the socket stopped taking calls. */
    void close() throws InterruptedException {
        for (VolumeEngine engine : running.values()) {
            engine.close();
        }
    }
}
