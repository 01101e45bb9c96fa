package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.Attacher;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.model.GroupSnapshotter;
import dev.strata.common.model.Ids;
import dev.strata.common.model.Provisioner;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.state.NodeState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The volumes and snapshots of this node: their records, the engines that hold their data, and the
 * order of work that keeps the two in step. Every change writes its record in a CREATING or DELETING
 * state first, does the engine's work, then settles the record; {@link #recover()} finishes or undoes
 * whatever a crash interrupted. This is the standalone {@link Provisioner}, and the facade over the
 * parts with a job of their own: {@link Engines}, {@link Records}, {@link Attachments},
 * {@link GroupSnapshots}, {@link Recovery} and the checks of {@link VolumeRequests}. Locking follows
 * {@link LockKeys}: each public operation takes its own locks.
 */
public final class LocalStorage implements Provisioner, Attacher, GroupSnapshotter {
    /** StorageClass parameter that picks the engine. */
    public static final String ENGINE_PARAMETER = "engine";
    /** Parameters the external-provisioner adds (PVC and PV names); accepted by every engine. */
    public static final String KUBERNETES_PREFIX = "csi.storage.k8s.io/";

    private final StorageConfig config;
    private final Engines engines;
    private final Records records;
    private final NodeState nodeState;
    private final LockTable locks;
    private final VolumeRequests requests;
    private final Attachments attachments;
    private final GroupSnapshots groups;
    private final Recovery recovery;

    public LocalStorage(StorageConfig config, Map<String, VolumeEngine> engines, NodeState nodeState, LockTable locks)
            throws IOException {
        this(config, engines, Map.of(), nodeState, locks);
    }

    /**
     * @param unavailableEngines engines the node is configured for but cannot run here, each with the
     *     reason: calls that name one fail with RESOURCE_EXHAUSTED and that reason
     */
    public LocalStorage(StorageConfig config, Map<String, VolumeEngine> engines, Map<String, String> unavailableEngines,
            NodeState nodeState, LockTable locks) throws IOException {
        if (!engines.containsKey(config.defaultEngine())) {
            throw new IllegalArgumentException("default engine " + config.defaultEngine() + " is not configured");
        }
        this.config = config;
        this.engines = new Engines(engines, unavailableEngines);
        this.records = Records.open(config.dataDir());
        this.nodeState = nodeState;
        this.locks = locks;
        this.requests = new VolumeRequests(config, records);
        this.attachments = new Attachments(config.nodeId(), config.maxVolumesPerNode(), records, this.engines, locks);
        this.groups = new GroupSnapshots(records, this.engines, locks);
        this.recovery = new Recovery(records, this.engines, groups);
    }

    // ---- start-up and stop ----------------------------------------------------------------------

    /** Lets every engine finish its background work; called after the socket stopped taking calls. */
    public void close() throws InterruptedException {
        for (VolumeEngine engine : engines.all()) {
            engine.close();
        }
    }

    /** Starts the engines, then settles what a crash interrupted and sweeps orphans ({@link Recovery}). */
    public void recover() throws IOException {
        recovery.run();
    }

    // ---- lookups used by the Node service ------------------------------------------------------

    public LockTable locks() {
        return locks;
    }

    public NodeState nodeState() {
        return nodeState;
    }

    public StorageConfig config() {
        return config;
    }

    public VolumeRecord requireVolume(String volumeId) {
        return records.requireVolume(volumeId);
    }

    /** Every engine this node runs. */
    public java.util.Collection<VolumeEngine> engines() {
        return engines.all();
    }

    public boolean hasEngine(String name) {
        return engines.contains(name);
    }

    /** Engines this node is configured for but cannot run, and why. */
    public Map<String, String> unavailableEngines() {
        return engines.unavailable();
    }

    /**
     * A volume named by a handle an engine resolves itself (a static hostpath PV's host path), not by
     * a record; empty when no engine claims the handle.
     */
    public Optional<VolumeRecord> staticVolume(String handle) {
        return engines.claiming(handle).map(e -> e.resolve(handle));
    }

    /** The ID a node call's volume ID stands for: itself, or the ID of a static volume's handle. */
    public String volumeIdOf(String volumeIdOrHandle) {
        return engines.claiming(volumeIdOrHandle).map(e -> e.idOf(volumeIdOrHandle)).orElse(volumeIdOrHandle);
    }

    public VolumeEngine engine(String name) {
        return engines.get(name);
    }

    // ---- Provisioner ----------------------------------------------------------------------------

    @Override
    public EngineTraits engineFor(Map<String, String> parameters) {
        return engine(parameters.getOrDefault(ENGINE_PARAMETER, config.defaultEngine())).traits();
    }

    @Override
    public List<String> nodes() {
        return List.of(config.nodeId());
    }

    @Override
    public VolumeRecord createVolume(VolumeSpec spec) {
        VolumeEngine engine = engine(spec.parameters().getOrDefault(ENGINE_PARAMETER, requests.defaultEngineFor(spec.source())));
        requests.check(engine, spec);
        String id = Ids.volumeId(spec.name());
        List<String> keys = new ArrayList<>(List.of(LockKeys.volume(id)));
        if (spec.source() != null) {
            keys.add(spec.source().kind() == ContentSource.Kind.SNAPSHOT ? LockKeys.snapshot(spec.source().id())
                    : LockKeys.volume(spec.source().id()));
        }
        try (LockTable.Held held = locks.acquire(keys.toArray(String[]::new))) {
            Optional<VolumeRecord> existing = records.volumes().get(id);
            if (existing.isPresent()) {
                return requests.sameVolume(existing.get(), spec, engine);
            }
            long size = requests.sizeFor(spec, engine, requests.sourceSize(spec.source(), engine));
            Map<String, String> parameters = new HashMap<>(spec.parameters());
            parameters.put(ENGINE_PARAMETER, engine.traits().name());
            VolumeRecord record = new VolumeRecord(id, spec.name(), engine.traits().name(), size, spec.accessType(),
                    parameters, spec.mutableParameters(), spec.source(), config.nodeId(), List.of(),
                    RecordState.CREATING, Instant.now(), Map.of());
            records.volumes().put(record);
            CrashPoint.reach("volume.create.recorded");
            try {
                engine.create(record);
            } catch (IOException | RuntimeException e) {
                undoCreate(engine, record, e);
                throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
            }
            CrashPoint.reach("volume.create.stored");
            VolumeRecord ready = record.withAttributes(engine.attributes(record)).withState(RecordState.READY);
            records.volumes().put(ready);
            return ready;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void undoCreate(VolumeEngine engine, VolumeRecord record, Exception cause) {
        try {
            engine.delete(record.id());
            records.volumes().remove(record.id());
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e); // the CREATING record stays; recover() removes it at the next start
        }
    }

    @Override
    public void deleteVolume(String volumeId) {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volumeId))) {
            deleteVolumeHeld(volumeId);
        }
    }

    /** {@link #deleteVolume} for a caller that holds the volume's lock already. */
    void deleteVolumeHeld(String volumeId) {
        try {
            Optional<VolumeRecord> found = records.volumes().get(volumeId);
            if (found.isEmpty()) {
                return;
            }
            VolumeRecord v = found.get();
            if (nodeState.inUse(volumeId)) {
                throw CsiException.failedPrecondition("volume " + volumeId + " is staged or published on node "
                        + config.nodeId() + "; unpublish it first");
            }
            if (!v.attachments().isEmpty()) {
                throw CsiException.failedPrecondition("volume " + volumeId + " is published to node "
                        + v.attachments().get(0).nodeId() + "; ControllerUnpublish it first");
            }
            VolumeEngine engine = engine(v.engine());
            engine.requireDeletable(volumeId);
            records.volumes().put(v.withState(RecordState.DELETING));
            CrashPoint.reach("volume.delete.recorded");
            engine.delete(volumeId);
            records.volumes().remove(volumeId);
            recovery.settled(volumeId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<VolumeRecord> findVolume(String volumeId) {
        return records.readyVolume(volumeId);
    }

    /** The ready volumes, and those recovery could not settle (their condition says why). */
    @Override
    public List<VolumeRecord> listVolumes() {
        return records.volumes().all().stream().filter(v -> v.state() == RecordState.READY || recovery.problem(v.id()).isPresent())
                .toList();
    }

    /** Every volume record, in whatever state (for metrics: CREATING and DELETING ones too). */
    public List<VolumeRecord> listAllVolumes() {
        return List.copyOf(records.volumes().all());
    }

    @Override
    public VolumeRecord expandVolume(String volumeId, long requiredBytes, long limitBytes) {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volumeId))) {
            VolumeRecord v = requireVolume(volumeId);
            if (requiredBytes <= v.capacityBytes()) {
                return v;
            }
            VolumeEngine engine = engine(v.engine());
            long max = engine.capacity().maximumVolumeBytes();
            if (requiredBytes > max) {
                throw CsiException.outOfRange("capacity_range.required_bytes", requiredBytes
                        + " bytes is more than the largest volume this node can hold (" + max + " bytes)");
            }
            engine.expand(v, requiredBytes);
            VolumeRecord grown = v.withCapacity(requiredBytes);
            grown = grown.withAttributes(engine.attributes(grown));
            records.volumes().put(grown);
            return grown;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public VolumeRecord modifyVolume(String volumeId, Map<String, String> mutableParameters) {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volumeId))) {
            VolumeRecord v = requireVolume(volumeId);
            VolumeEngine engine = engine(v.engine());
            VolumeRequests.checkKeys("mutable_parameters", mutableParameters, engine.traits().mutableParameterKeys(), false);
            engine.validateParameters("mutable_parameters", mutableParameters);
            engine.modify(v, mutableParameters);
            Map<String, String> merged = new LinkedHashMap<>(v.mutableParameters());
            merged.putAll(mutableParameters);
            VolumeRecord modified = v.withMutableParameters(merged);
            records.volumes().put(modified);
            return modified;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Map<String, String> publishVolume(String volumeId, String nodeId, boolean readOnly, AccessMode mode) {
        return attachments.publishVolume(volumeId, nodeId, readOnly, mode);
    }

    @Override
    public void unpublishVolume(String volumeId, String nodeId) {
        attachments.unpublishVolume(volumeId, nodeId);
    }

    @Override
    public SnapshotRecord createSnapshot(String name, String sourceVolumeId, Map<String, String> parameters) {
        SnapshotParameters.refuse(parameters, "snapshot");
        String id = Ids.snapshotId(name);
        try (LockTable.Held held = locks.acquire(LockKeys.snapshot(id), LockKeys.volume(sourceVolumeId))) {
            Optional<SnapshotRecord> existing = records.snapshots().get(id);
            if (existing.isPresent()) {
                if (!existing.get().sourceVolumeId().equals(sourceVolumeId)) {
                    throw CsiException.alreadyExists("name: a snapshot named \"" + name + "\" already exists for "
                            + "another volume (" + existing.get().sourceVolumeId() + ")");
                }
                return existing.get();
            }
            VolumeRecord source = findVolume(sourceVolumeId).orElseThrow(() -> CsiException.notFound(
                    "source_volume_id: volume " + sourceVolumeId + " does not exist"));
            VolumeEngine engine = engine(source.engine());
            SnapshotRecord record = new SnapshotRecord(id, name, sourceVolumeId, source.engine(),
                    source.capacityBytes(), null, RecordState.CREATING, Instant.now());
            records.snapshots().put(record);
            CrashPoint.reach("snapshot.create.recorded");
            try {
                engine.snapshot(record, source);
            } catch (IOException | RuntimeException e) {
                try {
                    engine.deleteSnapshot(id);
                    records.snapshots().remove(id);
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            CrashPoint.reach("snapshot.create.stored");
            SnapshotRecord ready = record.withState(RecordState.READY);
            records.snapshots().put(ready);
            return ready;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId) {
        try (LockTable.Held held = locks.acquire(LockKeys.snapshot(snapshotId))) {
            Optional<SnapshotRecord> found = records.snapshots().get(snapshotId);
            if (found.isEmpty()) {
                return;
            }
            SnapshotRecord s = found.get();
            if (s.groupSnapshotId() != null) {
                throw CsiException.failedPrecondition("snapshot " + snapshotId + " belongs to group snapshot "
                        + s.groupSnapshotId() + "; delete the group instead");
            }
            records.snapshots().put(s.withState(RecordState.DELETING));
            CrashPoint.reach("snapshot.delete.recorded");
            engine(s.engine()).deleteSnapshot(snapshotId);
            records.snapshots().remove(snapshotId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<SnapshotRecord> findSnapshot(String snapshotId) {
        return records.readySnapshot(snapshotId);
    }

    @Override
    public List<SnapshotRecord> listSnapshots() {
        return records.snapshots().all().stream().filter(s -> s.state() == RecordState.READY).toList();
    }

    /** Every snapshot record, in whatever state (for metrics). */
    public List<SnapshotRecord> listAllSnapshots() {
        return List.copyOf(records.snapshots().all());
    }

    @Override
    public GroupSnapshotRecord createGroupSnapshot(String name, List<String> sourceVolumeIds,
            Map<String, String> parameters) {
        return groups.createGroupSnapshot(name, sourceVolumeIds, parameters);
    }

    @Override
    public void deleteGroupSnapshot(String groupSnapshotId, List<String> snapshotIds) {
        groups.deleteGroupSnapshot(groupSnapshotId, snapshotIds);
    }

    @Override
    public Optional<GroupSnapshotRecord> findGroupSnapshot(String groupSnapshotId) {
        return groups.findGroupSnapshot(groupSnapshotId);
    }

    @Override
    public Capacity capacity(Map<String, String> parameters, String node) {
        VolumeEngine engine = engine(parameters.getOrDefault(ENGINE_PARAMETER, config.defaultEngine()));
        if (node != null && !node.equals(config.nodeId())) {
            return new Capacity(0, 0, 0);
        }
        try {
            return engine.capacity();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<String> publishedNodes(String volumeId) {
        List<String> nodes = new ArrayList<>();
        findVolume(volumeId).ifPresent(v -> v.attachments().forEach(a -> nodes.add(a.nodeId())));
        if (nodeState.inUse(volumeId) && !nodes.contains(config.nodeId())) {
            nodes.add(config.nodeId());
        }
        return nodes;
    }

    @Override
    public VolumeHealth health(String volumeId) {
        Optional<String> problem = recovery.problem(volumeId);
        if (problem.isPresent() && records.volumes().get(volumeId).isPresent()) {
            return VolumeHealth.abnormal(problem.get());
        }
        VolumeRecord v = requireVolume(volumeId);
        return engine(v.engine()).health(v);
    }
}
