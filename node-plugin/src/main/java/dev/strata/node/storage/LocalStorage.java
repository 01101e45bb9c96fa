package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.model.AccessMode;
import dev.strata.common.port.Attacher;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.port.GroupSnapshotter;
import dev.strata.common.model.Ids;
import dev.strata.common.port.Provisioner;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.iolimit.IoLimits;
import dev.strata.node.iolimit.IoThrottle;
import dev.strata.node.records.MountRecords;
import dev.strata.node.records.Publication;
import dev.strata.node.sys.DeviceNumber;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
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
 * parts with a job of their own: {@link Records}, {@link Snapshots}, {@link GroupSnapshots},
 * {@link Attachments}, {@link Recovery} and the checks of {@link VolumeRequests}, over the node's
 * {@link Engines}. Locking follows the one rule of {@link LockKeys}: each public operation takes its
 * own locks, and nothing here is called with a lock held.
 */
public final class LocalStorage implements Provisioner, Attacher, GroupSnapshotter {
    /** StorageClass parameter that picks the engine. */
    public static final String ENGINE_PARAMETER = "engine";
    /** Parameters the external-provisioner adds (PVC and PV names); accepted by every engine. */
    public static final String KUBERNETES_PREFIX = "csi.storage.k8s.io/";

    private final StorageConfig config;
    private final Engines engines;
    private final Records records;
    private final MountRecords mountRecords;
    private final LockTable locks;
    private final VolumeRequests requests;
    private final Attachments attachments;
    private final Snapshots snapshots;
    private final GroupSnapshots groups;
    private final Recovery recovery;
    private final SnapshotBackups backups;
    private final BackupRestores restores;
    private final IoThrottle throttle;

    /** A storage with its own I/O throttle (tests; the node's shares one with its {@link NodeVolumes}). */
    public LocalStorage(StorageConfig config, Engines engines, MountRecords mountRecords, LockTable locks)
            throws IOException {
        this(config, engines, mountRecords, locks, new IoThrottle(config.cgroupRoot()));
    }

    public LocalStorage(StorageConfig config, Engines engines, MountRecords mountRecords, LockTable locks,
            IoThrottle throttle) throws IOException {
        if (!engines.contains(config.defaultEngine())) {
            throw new IllegalArgumentException("default engine " + config.defaultEngine() + " is not configured");
        }
        this.config = config;
        this.engines = engines;
        this.records = Records.open(config.dataDir());
        this.mountRecords = mountRecords;
        this.locks = locks;
        this.throttle = throttle;
        this.requests = new VolumeRequests(config, records);
        this.attachments = new Attachments(config.nodeId(), config.maxVolumesPerNode(), records, engines, locks);
        BackupCalls backupCalls = new BackupCalls(config.backupKeyFile());
        this.backups = new SnapshotBackups(records, locks, backupCalls);
        this.restores = new BackupRestores(backupCalls);
        this.snapshots = new Snapshots(records, engines, locks, backups);
        this.groups = new GroupSnapshots(records, engines, locks);
        this.recovery = new Recovery(records, engines, groups, backups);
    }

    /** Stops uploading backups (an interrupted upload resumes on the next CreateSnapshot). */
    public void close() {
        backups.close();
        throttle.close();
    }

    /**
     * Starts the engines, then settles what a crash interrupted and sweeps orphans ({@link Recovery}),
     * and resumes interrupted uploads of remote snapshots.
     */
    public void recover() throws IOException {
        recovery.run();
        // Uploads a stop or crash interrupted go on (a failed one waits for the next CreateSnapshot).
        for (SnapshotRecord s : snapshots.ready()) {
            // One opened with a call's secrets waits for the next CreateSnapshot, which carries them.
            if (s.backup() != null && s.backup().phase() == BackupRef.Phase.UPLOADING && !s.backup().callSecrets()) {
                backups.upload(s, engines.get(s.engine()), Secrets.NONE);
            }
        }
    }

    // ---- Provisioner ----------------------------------------------------------------------------

    @Override
    public EngineTraits engineFor(Map<String, String> parameters) {
        return engines.get(parameters.getOrDefault(ENGINE_PARAMETER, config.defaultEngine())).traits();
    }

    @Override
    public List<String> nodes() {
        return List.of(config.nodeId());
    }

    @Override
    public VolumeRecord createVolume(VolumeSpec spec) {
        String id = Ids.volumeId(spec.name());
        List<String> keys = new ArrayList<>(List.of(LockKeys.volume(id)));
        if (spec.source() != null) {
            keys.add(spec.source().kind() == ContentSource.Kind.SNAPSHOT ? LockKeys.snapshot(spec.source().id())
                    : LockKeys.volume(spec.source().id()));
        }
        try (LockTable.Held held = locks.acquire(keys.toArray(String[]::new))) {
            Optional<VolumeRecord> existing = records.volumes().get(id);
            Optional<VolumeRecord> made = existing.filter(v -> v.state() == RecordState.READY);
            // A retry is held to what was made, not to its source as it is now: the source may be
            // gone since (the default engine would answer ALREADY_EXISTS), a backup target out of reach.
            VolumeEngine engine = engines.get(spec.parameters().getOrDefault(ENGINE_PARAMETER,
                    made.map(VolumeRecord::engine).orElseGet(() -> requests.defaultEngineFor(spec.source()))));
            requests.check(engine, spec);
            if (made.isPresent()) {
                return requests.sameVolume(made.get(), spec, engine);
            }
            String fromBackup = restores.restoreSource(spec.parameters(), engine, spec.source() != null,
                    spec.secrets());
            if (existing.isPresent()) {
                discard(existing.get()); // left by a call that failed and could not undo itself: made afresh
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
                if (fromBackup != null) {
                    restores.restore(fromBackup, engine, record, spec.secrets());
                }
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
            discard(record);
        } catch (IOException | RuntimeException e) {
            // The CREATING record stays: the next start, or the retry of this create, discards it.
            cause.addSuppressed(e);
        }
    }

    /** Lets go of the volume's storage, then of its record. The volume's lock is held. */
    private void discard(VolumeRecord volume) throws IOException {
        engines.get(volume.engine()).delete(volume.id());
        records.volumes().remove(volume.id());
        recovery.settled(volume.id());
    }

    @Override
    public void deleteVolume(String volumeId) {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volumeId))) {
            Optional<VolumeRecord> found = records.volumes().get(volumeId);
            if (found.isEmpty()) {
                return;
            }
            VolumeRecord v = found.get();
            if (mountRecords.inUse(volumeId)) {
                throw CsiException.failedPrecondition("volume " + volumeId + " is staged or published on node "
                        + config.nodeId() + "; unpublish it first");
            }
            if (!v.attachments().isEmpty()) {
                throw CsiException.failedPrecondition("volume " + volumeId + " is published to node "
                        + v.attachments().get(0).nodeId() + "; ControllerUnpublish it first");
            }
            VolumeEngine engine = engines.get(v.engine());
            engine.requireDeletable(volumeId);
            records.volumes().put(v.withState(RecordState.DELETING));
            CrashPoint.reach("volume.delete.recorded");
            discard(v);
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
            VolumeRecord v = records.requireVolume(volumeId);
            if (requiredBytes <= v.capacityBytes()) {
                return v;
            }
            VolumeEngine engine = engines.get(v.engine());
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
            VolumeRecord v = records.requireVolume(volumeId);
            VolumeEngine engine = engines.get(v.engine());
            VolumeRequests.checkKeys("mutable_parameters", mutableParameters, engine.traits().mutableParameterKeys(), false);
            engine.validateParameters("mutable_parameters", mutableParameters);
            Map<String, String> merged = new LinkedHashMap<>(v.mutableParameters());
            merged.putAll(mutableParameters);
            VolumeRecord modified = v.withMutableParameters(merged);
            IoLimits limits = VolumeRequests.ioLimits(engine, modified, mutableParameters);
            engine.modify(v, mutableParameters);
            records.volumes().put(modified);
            limitPublications(modified, engine, limits);
            return modified;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A VolumeAttributesClass change reaches the pods using the volume now, not only later ones. */
    private void limitPublications(VolumeRecord volume, VolumeEngine engine, IoLimits limits) throws IOException {
        List<Publication> publications = mountRecords.get(volume.id()).publications();
        if (publications.isEmpty()) {
            return;
        }
        if (limits.none()) {
            for (Publication p : publications) {
                throttle.lift(Path.of(p.targetPath()));
            }
            return;
        }
        DeviceNumber device = engine.ioDevice(volume).orElseThrow(() -> CsiException.failedPrecondition("volume "
                + volume.id() + " is published but its device is not there (is it staged?)"));
        for (Publication p : publications) {
            throttle.limit(Path.of(p.targetPath()), device, limits);
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
    public SnapshotRecord createSnapshot(String name, String sourceVolumeId, Map<String, String> parameters,
            Secrets secrets) {
        try {
            return snapshots.create(name, sourceVolumeId, parameters, secrets);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId, Secrets secrets) {
        try {
            snapshots.delete(snapshotId, secrets);
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
        return snapshots.ready();
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
        VolumeEngine engine = engines.get(parameters.getOrDefault(ENGINE_PARAMETER, config.defaultEngine()));
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
        if (mountRecords.inUse(volumeId) && !nodes.contains(config.nodeId())) {
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
        VolumeRecord v = records.requireVolume(volumeId);
        return engines.get(v.engine()).health(v);
    }
}
