package dev.strata.node.storage;

import dev.strata.common.Validate;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up recovery: finishes or undoes what a crash interrupted (records left CREATING or DELETING),
 * then sweeps storage that no record owns. One record that cannot be settled does not stop the rest,
 * nor the driver: it is logged, kept for the next start, and remembered as a problem that the volume
 * reports as its condition until a delete or a later start settles it. An engine that does not start
 * does not stop the others either: it is made unavailable, with the reason.
 */
final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private final Records records;
    private final Engines engines;
    private final GroupSnapshots groups;
    private final SnapshotBackups backups;
    /** What recovery could not settle, by ID. */
    private final Map<String, String> problems = new ConcurrentHashMap<>();

    Recovery(Records records, Engines engines, GroupSnapshots groups, SnapshotBackups backups) {
        this.records = records;
        this.engines = engines;
        this.groups = groups;
        this.backups = backups;
    }

    void run() throws IOException {
        for (String name : List.copyOf(engines.names())) {
            start(name, engines.get(name));
        }
        for (GroupSnapshotRecord g : records.groups().all()) {
            if (g.state() != RecordState.READY) {
                settle("group snapshot", g.id(), g.name(), g.state(), () -> groups.remove(g));
            }
        }
        for (VolumeRecord v : records.volumes().all()) {
            if (v.state() != RecordState.READY) {
                settle("volume", v.id(), v.name(), v.state(), () -> {
                    engines.get(v.engine()).delete(v.id());
                    records.volumes().remove(v.id());
                });
            }
        }
        for (SnapshotRecord s : records.snapshots().all()) {
            if (s.state() == RecordState.DELETING && s.backup() != null && s.backup().callSecrets()) {
                // Its backup opens only with the secrets a call carries: the CO's next DeleteSnapshot
                // (it retries until one succeeds) removes it; the node's own would remove nothing.
                LOG.info("snapshot {} was left DELETING; its backup needs the call's secrets, so the next "
                        + "DeleteSnapshot removes it", s.id());
                continue;
            }
            if (s.state() != RecordState.READY) {
                settle("snapshot", s.id(), s.name(), s.state(), () -> {
                    if (s.state() == RecordState.DELETING) {
                        backups.remove(s, Secrets.NONE); // a CREATING one never started its upload
                    }
                    engines.get(s.engine()).deleteSnapshot(s.id());
                    records.snapshots().remove(s.id());
                });
            }
        }
        for (VolumeEngine engine : engines.all()) {
            sweep(engine);
        }
        LOG.info("storage ready: {} volumes, {} snapshots, engines {}{}", records.volumes().all().size(),
                records.snapshots().all().size(), engines.names(),
                problems.isEmpty() ? "" : "; " + problems.size() + " left unsettled (see above)");
    }

    /**
     * Starts one engine. One that fails (a thin pool whose metadata needs repair, say) is logged and
     * made unavailable with the reason, and the rest start: the node's other volumes stay usable, and
     * pods can still leave them, where a driver that did not start kept every pod on the node waiting.
     */
    private void start(String name, VolumeEngine engine) {
        try {
            engine.start();
        } catch (IOException | RuntimeException e) {
            String why = "it failed to start: " + (e.getMessage() == null ? e.toString() : e.getMessage())
                    + " (tried again at the next start)";
            LOG.error("the {} engine is unavailable: {}", name, why, e);
            engines.cannotRun(name, why);
            try {
                engine.close(); // whatever it started before it failed
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException closing) {
                LOG.warn("the {} engine did not close after its failed start", name, closing);
            }
        }
    }

    /** What recovery could not settle for this ID, if anything. */
    Optional<String> problem(String id) {
        return Optional.ofNullable(problems.get(id));
    }

    /** The record is gone, so its problem is too. */
    void settled(String id) {
        problems.remove(id);
    }

    private interface Step {
        void run() throws IOException;
    }

    /** Removes what a crash left half made; a failure is noted against the record's ID, and recovery goes on. */
    private void settle(String kind, String id, String name, RecordState state, Step removal) {
        LOG.info("{} {} ({}) was left {}; removing it", kind, id, Validate.printable(name), state);
        try {
            removal.run();
        } catch (IOException | RuntimeException e) {
            String problem = "left " + state + " by an interrupted operation, and removing it failed: "
                    + e.getMessage() + " (tried again at the next start, or at a delete)";
            problems.put(id, problem);
            LOG.error("{} {}: {}", kind, id, problem, e);
        }
    }

    private void sweep(VolumeEngine engine) throws IOException {
        String name = engine.traits().name();
        for (String id : engine.storedVolumeIds()) {
            if (records.volumes().get(id).filter(v -> v.engine().equals(name)).isEmpty()) {
                sweep(name + " volume storage", id, () -> engine.delete(id));
            }
        }
        for (String id : engine.storedSnapshotIds()) {
            if (records.snapshots().get(id).filter(s -> s.engine().equals(name)).isEmpty()) {
                sweep(name + " snapshot storage", id, () -> engine.deleteSnapshot(id));
            }
        }
    }

    /** Removes storage that no record owns; a failure is logged (no record can report it) and tried again at the next start. */
    private static void sweep(String kind, String id, Step removal) {
        LOG.info("{} {} has no record; removing it", kind, id);
        try {
            removal.run();
        } catch (IOException | RuntimeException e) {
            LOG.error("{} {}: removing it failed (tried again at the next start): {}", kind, id, e.getMessage(), e);
        }
    }
}
