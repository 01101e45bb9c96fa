package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.Validate;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.Attacher;
import dev.strata.common.model.Attachment;
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
import dev.strata.node.engine.thin.ThinEngine;
import dev.strata.node.state.NodeState;
import dev.strata.node.store.RecordStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The volumes and snapshots of this node: their records, the engines that hold their data, and the
 * order of work that keeps the two in step. Every change writes its record in a CREATING or DELETING
 * state first, does the engine's work, then settles the record; {@link #recover()} finishes or undoes
 * whatever a crash interrupted. This is the standalone {@link Provisioner}.
 */
public final class LocalStorage implements Provisioner, Attacher, GroupSnapshotter {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStorage.class);
    /** StorageClass parameter that picks the engine. */
    public static final String ENGINE_PARAMETER = "engine";
    /** Parameters the external-provisioner adds (PVC and PV names); accepted by every engine. */
    public static final String KUBERNETES_PREFIX = "csi.storage.k8s.io/";

    private final StorageConfig config;
    private final Map<String, VolumeEngine> engines;
    private final Map<String, String> unavailableEngines;
    private final RecordStore<VolumeRecord> volumes;
    private final RecordStore<SnapshotRecord> snapshots;
    private final RecordStore<GroupSnapshotRecord> groups;
    private final NodeState nodeState;
    private final LockTable locks;
    private final Object attachLimit = new Object();
    /** What recovery could not settle, by ID: reported as the volume's condition until it is. */
    private final Map<String, String> problems = new java.util.concurrent.ConcurrentHashMap<>();

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
        this.config = config;
        this.engines = Map.copyOf(engines);
        this.unavailableEngines = Map.copyOf(unavailableEngines);
        if (!engines.containsKey(config.defaultEngine())) {
            throw new IllegalArgumentException("default engine " + config.defaultEngine() + " is not configured");
        }
        Path records = config.dataDir().resolve("records");
        // A record is synced when it says something is READY: losing that write would lose data the
        // CO was told exists. CREATING/DELETING records only guide clean-up, which is safe to redo.
        this.volumes = new RecordStore<>(records.resolve("volumes"), VolumeRecord.class, VolumeRecord::id,
                v -> v.state() == RecordState.READY);
        this.snapshots = new RecordStore<>(records.resolve("snapshots"), SnapshotRecord.class, SnapshotRecord::id,
                s -> s.state() == RecordState.READY);
        this.groups = new RecordStore<>(records.resolve("groups"), GroupSnapshotRecord.class, GroupSnapshotRecord::id,
                g -> g.state() == RecordState.READY);
        this.nodeState = nodeState;
        this.locks = locks;
    }

    // ---- start-up and stop ----------------------------------------------------------------------

    /** Lets every engine finish its background work; called after the socket stopped taking calls. */
    public void close() throws InterruptedException {
        for (VolumeEngine engine : engines.values()) {
            engine.close();
        }
    }

    /**
     * Finishes or undoes interrupted work and removes storage that no record owns. One record that
     * cannot be settled does not stop the rest, nor the driver: it is logged, kept for the next
     * start, and reported as the volume's condition ({@link #health}).
     */
    public void recover() throws IOException {
        for (VolumeEngine engine : engines.values()) {
            engine.start();
        }
        for (GroupSnapshotRecord g : groups.all()) {
            if (g.state() != RecordState.READY) {
                settle("group snapshot", g.id(), g.name(), g.state(), () -> removeGroup(g));
            }
        }
        for (VolumeRecord v : volumes.all()) {
            if (v.state() != RecordState.READY) {
                settle("volume", v.id(), v.name(), v.state(), () -> {
                    engine(v.engine()).delete(v.id());
                    volumes.remove(v.id());
                });
            }
        }
        for (SnapshotRecord s : snapshots.all()) {
            if (s.state() != RecordState.READY) {
                settle("snapshot", s.id(), s.name(), s.state(), () -> {
                    engine(s.engine()).deleteSnapshot(s.id());
                    snapshots.remove(s.id());
                });
            }
        }
        for (VolumeEngine engine : engines.values()) {
            String name = engine.traits().name();
            for (String id : engine.storedVolumeIds()) {
                if (volumes.get(id).filter(v -> v.engine().equals(name)).isEmpty()) {
                    sweep(name + " volume storage", id, () -> engine.delete(id));
                }
            }
            for (String id : engine.storedSnapshotIds()) {
                if (snapshots.get(id).filter(s -> s.engine().equals(name)).isEmpty()) {
                    sweep(name + " snapshot storage", id, () -> engine.deleteSnapshot(id));
                }
            }
        }
        LOG.info("storage ready: {} volumes, {} snapshots, engines {}{}", volumes.all().size(), snapshots.all().size(),
                engines.keySet(), problems.isEmpty() ? "" : "; " + problems.size() + " left unsettled (see above)");
    }

    private interface Step {
        void run() throws IOException;
    }

    /**
     * Removes what a crash left half made. A failure is noted against the record's ID, which then
     * reports it ({@link #listVolumes}, {@link #health}), and recovery goes on.
     */
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

    /** Removes storage that no record owns; a failure is logged (there is no record to report it), and tried again at the next start. */
    private static void sweep(String kind, String id, Step removal) {
        LOG.info("{} {} has no record; removing it", kind, id);
        try {
            removal.run();
        } catch (IOException | RuntimeException e) {
            LOG.error("{} {}: removing it failed (tried again at the next start): {}", kind, id, e.getMessage(), e);
        }
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
        return findVolume(volumeId).orElseThrow(() -> CsiException.notFound("volume " + volumeId + " does not exist"));
    }

    /** Every engine this node runs. */
    public java.util.Collection<VolumeEngine> engines() {
        return engines.values();
    }

    public boolean hasEngine(String name) {
        return engines.containsKey(name);
    }

    /** Engines this node is configured for but cannot run, and why. */
    public Map<String, String> unavailableEngines() {
        return unavailableEngines;
    }

    public VolumeEngine engine(String name) {
        VolumeEngine engine = engines.get(name);
        if (engine == null && unavailableEngines.containsKey(name)) {
            throw new CsiException(io.grpc.Status.Code.RESOURCE_EXHAUSTED, "the " + name
                    + " engine cannot run on this node: " + unavailableEngines.get(name));
        }
        if (engine == null) {
            // The one engine a driver runs only when told how: say how, as the hostpath engine does.
            String hint = ThinEngine.NAME.equals(name) ? "; the thin engine needs a dm-thin pool: start the driver "
                    + "with --thin-pool-dir DIR (or --thin-data DEVICE --thin-metadata DEVICE)" : "";
            throw CsiException.invalidArgument("parameters." + ENGINE_PARAMETER, "unknown engine \"" + name
                    + "\" (configured: " + String.join(", ", new java.util.TreeSet<>(engines.keySet())) + ")" + hint);
        }
        return engine;
    }

    public static String volumeKey(String id) {
        return "volume:" + id;
    }

    public static String snapshotKey(String id) {
        return "snapshot:" + id;
    }

    static String groupKey(String id) {
        return "group:" + id;
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
        VolumeEngine engine = engine(spec.parameters().getOrDefault(ENGINE_PARAMETER, defaultEngineFor(spec.source())));
        checkSpec(engine, spec);
        String id = Ids.volumeId(spec.name());
        List<String> keys = new ArrayList<>(List.of(volumeKey(id)));
        if (spec.source() != null) {
            keys.add(spec.source().kind() == ContentSource.Kind.SNAPSHOT ? snapshotKey(spec.source().id())
                    : volumeKey(spec.source().id()));
        }
        try (LockTable.Held held = locks.acquire(keys.toArray(String[]::new))) {
            Optional<VolumeRecord> existing = volumes.get(id);
            if (existing.isPresent()) {
                return sameVolume(existing.get(), spec, engine);
            }
            long size = sizeFor(spec, engine, sourceSize(spec.source(), engine));
            Map<String, String> parameters = new HashMap<>(spec.parameters());
            parameters.put(ENGINE_PARAMETER, engine.traits().name());
            VolumeRecord record = new VolumeRecord(id, spec.name(), engine.traits().name(), size, spec.accessType(),
                    parameters, spec.mutableParameters(), spec.source(), config.nodeId(), List.of(),
                    RecordState.CREATING, Instant.now(), Map.of());
            volumes.put(record);
            CrashPoint.reach("volume.create.recorded");
            try {
                engine.create(record);
            } catch (IOException | RuntimeException e) {
                undoCreate(engine, record, e);
                throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
            }
            CrashPoint.reach("volume.create.stored");
            VolumeRecord ready = record.withAttributes(engine.attributes(record)).withState(RecordState.READY);
            volumes.put(ready);
            return ready;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A restore or clone that names no engine stays in its source's engine; anything else gets the default. */
    private String defaultEngineFor(ContentSource source) {
        if (source == null) {
            return config.defaultEngine();
        }
        Optional<String> sourceEngine = source.kind() == ContentSource.Kind.SNAPSHOT
                ? findSnapshot(source.id()).map(SnapshotRecord::engine)
                : findVolume(source.id()).map(VolumeRecord::engine);
        return sourceEngine.orElse(config.defaultEngine());
    }

    private void undoCreate(VolumeEngine engine, VolumeRecord record, Exception cause) {
        try {
            engine.delete(record.id());
            volumes.remove(record.id());
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e); // the CREATING record stays; recover() removes it at the next start
        }
    }

    private void checkSpec(VolumeEngine engine, VolumeSpec spec) {
        EngineTraits traits = engine.traits();
        if (!traits.accessTypes().contains(spec.accessType())) {
            throw CsiException.invalidArgument("volume_capabilities", "the " + traits.name() + " engine does not offer "
                    + spec.accessType().name().toLowerCase() + " volumes");
        }
        for (AccessMode mode : spec.accessModes()) {
            if (!traits.accessModes().contains(mode)) {
                throw CsiException.invalidArgument("volume_capabilities", "the " + traits.name()
                        + " engine does not support access mode " + mode);
            }
        }
        checkKeys("parameters", spec.parameters(), traits.parameterKeys(), true);
        checkKeys("mutable_parameters", spec.mutableParameters(), traits.mutableParameterKeys(), false);
        engine.validateParameters("parameters", spec.parameters());
        engine.validateParameters("mutable_parameters", spec.mutableParameters());
        if (!spec.nodes().isEmpty() && !spec.nodes().contains(config.nodeId())) {
            throw CsiException.resourceExhausted("accessibility_requirements: this plugin serves only node "
                    + config.nodeId() + ", not " + spec.nodes());
        }
    }

    private static void checkKeys(String field, Map<String, String> given, Set<String> known, boolean creation) {
        for (String key : given.keySet()) {
            boolean ok = known.contains(key)
                    || creation && (key.equals(ENGINE_PARAMETER) || key.startsWith(KUBERNETES_PREFIX));
            if (!ok) {
                throw CsiException.invalidArgument(field + "." + key, "unknown parameter (known: "
                        + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
        }
    }

    /** The size a new volume gets: what was asked for, never less than its source, within the limits. */
    private long sizeFor(VolumeSpec spec, VolumeEngine engine, long sourceBytes) throws IOException {
        // No size asked for: a restore or clone takes its source's size, an empty volume the default.
        long size = spec.requiredBytes() > 0 ? spec.requiredBytes()
                : spec.source() != null ? sourceBytes : config.defaultVolumeBytes();
        if (spec.requiredBytes() == 0 && spec.limitBytes() > 0 && spec.source() == null) {
            size = Math.min(size, spec.limitBytes());
        }
        size = Math.max(size, sourceBytes);
        if (spec.limitBytes() > 0 && size > spec.limitBytes()) {
            throw CsiException.outOfRange("capacity_range.limit_bytes", "the content source needs " + sourceBytes
                    + " bytes, more than the limit of " + spec.limitBytes());
        }
        long max = engine.capacity().maximumVolumeBytes();
        if (size > max) {
            throw CsiException.outOfRange("capacity_range.required_bytes", size + " bytes is more than the largest "
                    + "volume this node can hold (" + max + " bytes)");
        }
        return size;
    }

    private long sourceSize(ContentSource source, VolumeEngine engine) {
        if (source == null) {
            return 0;
        }
        String engineName;
        long bytes;
        if (source.kind() == ContentSource.Kind.SNAPSHOT) {
            SnapshotRecord s = findSnapshot(source.id()).orElseThrow(() -> CsiException.notFound(
                    "volume_content_source.snapshot.snapshot_id: snapshot " + source.id() + " does not exist"));
            engineName = s.engine();
            bytes = s.sizeBytes();
        } else {
            VolumeRecord v = findVolume(source.id()).orElseThrow(() -> CsiException.notFound(
                    "volume_content_source.volume.volume_id: volume " + source.id() + " does not exist"));
            engineName = v.engine();
            bytes = v.capacityBytes();
        }
        if (!engineName.equals(engine.traits().name())) {
            throw CsiException.invalidArgument("volume_content_source", "the source lives in the " + engineName
                    + " engine; a " + engine.traits().name() + " volume cannot be made from it");
        }
        return bytes;
    }

    private VolumeRecord sameVolume(VolumeRecord existing, VolumeSpec spec, VolumeEngine engine) {
        List<String> differences = new ArrayList<>();
        if (spec.requiredBytes() > existing.capacityBytes()
                || spec.limitBytes() > 0 && existing.capacityBytes() > spec.limitBytes()) {
            differences.add("capacity (it has " + existing.capacityBytes() + " bytes)");
        }
        if (!existing.engine().equals(engine.traits().name())) {
            differences.add("engine (it uses " + existing.engine() + ")");
        }
        Map<String, String> parameters = new HashMap<>(spec.parameters());
        parameters.put(ENGINE_PARAMETER, engine.traits().name());
        if (!existing.parameters().equals(parameters)) {
            differences.add("parameters");
        }
        if (!Objects.equals(existing.source(), spec.source())) {
            differences.add("content source");
        }
        if (existing.accessType() != spec.accessType()) {
            differences.add("access type");
        }
        if (!differences.isEmpty()) {
            throw CsiException.alreadyExists("name: a volume named \"" + spec.name() + "\" already exists with "
                    + "different " + String.join(", ", differences));
        }
        return existing;
    }

    @Override
    public void deleteVolume(String volumeId) {
        try (LockTable.Held held = locks.acquire(volumeKey(volumeId))) {
            deleteVolumeHeld(volumeId);
        }
    }

    /** {@link #deleteVolume} for a caller that holds the volume's lock already. */
    void deleteVolumeHeld(String volumeId) {
        try {
            Optional<VolumeRecord> found = volumes.get(volumeId);
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
            volumes.put(v.withState(RecordState.DELETING));
            CrashPoint.reach("volume.delete.recorded");
            engine.delete(volumeId);
            volumes.remove(volumeId);
            problems.remove(volumeId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<VolumeRecord> findVolume(String volumeId) {
        return volumes.get(volumeId).filter(v -> v.state() == RecordState.READY);
    }

    /** The ready volumes, and those recovery could not settle (their condition says why). */
    @Override
    public List<VolumeRecord> listVolumes() {
        return volumes.all().stream().filter(v -> v.state() == RecordState.READY || problems.containsKey(v.id()))
                .toList();
    }

    /** Every volume record, in whatever state (for metrics: CREATING and DELETING ones too). */
    public List<VolumeRecord> listAllVolumes() {
        return List.copyOf(volumes.all());
    }

    @Override
    public VolumeRecord expandVolume(String volumeId, long requiredBytes, long limitBytes) {
        try (LockTable.Held held = locks.acquire(volumeKey(volumeId))) {
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
            volumes.put(grown);
            return grown;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public VolumeRecord modifyVolume(String volumeId, Map<String, String> mutableParameters) {
        try (LockTable.Held held = locks.acquire(volumeKey(volumeId))) {
            VolumeRecord v = requireVolume(volumeId);
            VolumeEngine engine = engine(v.engine());
            checkKeys("mutable_parameters", mutableParameters, engine.traits().mutableParameterKeys(), false);
            engine.validateParameters("mutable_parameters", mutableParameters);
            engine.modify(v, mutableParameters);
            Map<String, String> merged = new LinkedHashMap<>(v.mutableParameters());
            merged.putAll(mutableParameters);
            VolumeRecord modified = v.withMutableParameters(merged);
            volumes.put(modified);
            return modified;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Map<String, String> publishVolume(String volumeId, String nodeId, boolean readOnly, AccessMode mode) {
        try (LockTable.Held held = locks.acquire(volumeKey(volumeId))) {
            VolumeRecord v = requireVolume(volumeId);
            if (!nodeId.equals(config.nodeId())) {
                throw CsiException.notFound("node_id: node " + nodeId + " is not served by this plugin");
            }
            if (!engine(v.engine()).traits().accessModes().contains(mode)) {
                throw CsiException.invalidArgument("volume_capability.access_mode", "the " + v.engine()
                        + " engine does not support " + mode);
            }
            Attachment wanted = new Attachment(nodeId, readOnly, mode);
            Optional<Attachment> current = v.attachments().stream().filter(a -> a.nodeId().equals(nodeId)).findFirst();
            if (current.isPresent()) {
                if (!current.get().equals(wanted)) {
                    throw CsiException.alreadyExists("volume " + volumeId + " is already published to node " + nodeId
                            + " with readonly=" + current.get().readOnly() + " and mode " + current.get().mode());
                }
                return publishContext(v);
            }
            // Counting and adding must not interleave with another volume's publish, or two could
            // both see one slot left; the volume locks alone do not cover that.
            synchronized (attachLimit) {
                long attached = volumes.all().stream()
                        .filter(o -> o.attachments().stream().anyMatch(a -> a.nodeId().equals(nodeId))).count();
                if (attached >= config.maxVolumesPerNode()) {
                    throw CsiException.resourceExhausted("node " + nodeId + " already has " + attached
                            + " volumes published, its limit");
                }
                List<Attachment> attachments = new ArrayList<>(v.attachments());
                attachments.add(wanted);
                volumes.put(v.withAttachments(attachments));
            }
            return publishContext(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> publishContext(VolumeRecord v) {
        return Map.of("strata.csi.dev/engine", v.engine());
    }

    @Override
    public void unpublishVolume(String volumeId, String nodeId) {
        try (LockTable.Held held = locks.acquire(volumeKey(volumeId))) {
            Optional<VolumeRecord> found = findVolume(volumeId);
            if (found.isEmpty()) {
                return;
            }
            VolumeRecord v = found.get();
            List<Attachment> attachments = new ArrayList<>(v.attachments());
            if (attachments.removeIf(a -> nodeId.isEmpty() || a.nodeId().equals(nodeId))) {
                volumes.put(v.withAttachments(attachments));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Snapshots take no parameters of their own; the csi.storage.k8s.io/ ones are what the CO adds
     * about itself (csi-snapshotter's --extra-create-metadata: the VolumeSnapshot's name and
     * namespace), which the real cluster sent to every CreateSnapshot.
     */
    private static void refuseSnapshotParameters(Map<String, String> parameters, String what) {
        parameters.keySet().stream().filter(k -> !k.startsWith(KUBERNETES_PREFIX)).findFirst().ifPresent(k -> {
            throw CsiException.invalidArgument("parameters." + k, "unknown " + what + " parameter (none are supported)");
        });
    }

    @Override
    public SnapshotRecord createSnapshot(String name, String sourceVolumeId, Map<String, String> parameters) {
        refuseSnapshotParameters(parameters, "snapshot");
        String id = Ids.snapshotId(name);
        try (LockTable.Held held = locks.acquire(snapshotKey(id), volumeKey(sourceVolumeId))) {
            Optional<SnapshotRecord> existing = snapshots.get(id);
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
            snapshots.put(record);
            CrashPoint.reach("snapshot.create.recorded");
            try {
                engine.snapshot(record, source);
            } catch (IOException | RuntimeException e) {
                try {
                    engine.deleteSnapshot(id);
                    snapshots.remove(id);
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            CrashPoint.reach("snapshot.create.stored");
            SnapshotRecord ready = record.withState(RecordState.READY);
            snapshots.put(ready);
            return ready;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId) {
        try (LockTable.Held held = locks.acquire(snapshotKey(snapshotId))) {
            Optional<SnapshotRecord> found = snapshots.get(snapshotId);
            if (found.isEmpty()) {
                return;
            }
            SnapshotRecord s = found.get();
            if (s.groupSnapshotId() != null) {
                throw CsiException.failedPrecondition("snapshot " + snapshotId + " belongs to group snapshot "
                        + s.groupSnapshotId() + "; delete the group instead");
            }
            snapshots.put(s.withState(RecordState.DELETING));
            CrashPoint.reach("snapshot.delete.recorded");
            engine(s.engine()).deleteSnapshot(snapshotId);
            snapshots.remove(snapshotId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<SnapshotRecord> findSnapshot(String snapshotId) {
        return snapshots.get(snapshotId).filter(s -> s.state() == RecordState.READY);
    }

    @Override
    public List<SnapshotRecord> listSnapshots() {
        return snapshots.all().stream().filter(s -> s.state() == RecordState.READY).toList();
    }

    /** Every snapshot record, in whatever state (for metrics). */
    public List<SnapshotRecord> listAllSnapshots() {
        return List.copyOf(snapshots.all());
    }

    @Override
    public GroupSnapshotRecord createGroupSnapshot(String name, List<String> sourceVolumeIds,
            Map<String, String> parameters) {
        refuseSnapshotParameters(parameters, "group snapshot");
        String id = Ids.groupSnapshotId(name);
        List<String> sources = sourceVolumeIds.stream().distinct().sorted().toList();
        List<String> keys = new ArrayList<>(List.of(groupKey(id)));
        sources.forEach(v -> keys.add(volumeKey(v)));
        try (LockTable.Held held = locks.acquire(keys.toArray(String[]::new))) {
            Optional<GroupSnapshotRecord> existing = groups.get(id);
            if (existing.isPresent()) {
                if (!existing.get().sourceVolumeIds().equals(sources)) {
                    throw CsiException.alreadyExists("name: a group snapshot named \"" + name
                            + "\" already exists for other volumes " + existing.get().sourceVolumeIds());
                }
                return existing.get();
            }
            List<VolumeRecord> volumesToCut = new ArrayList<>();
            for (String v : sources) {
                volumesToCut.add(findVolume(v).orElseThrow(() -> CsiException.notFound(
                        "source_volume_ids: volume " + v + " does not exist")));
            }
            String engineName = volumesToCut.get(0).engine();
            if (volumesToCut.stream().anyMatch(v -> !v.engine().equals(engineName))) {
                throw CsiException.failedPrecondition("source_volume_ids: the volumes use different engines and "
                        + "cannot be snapshotted together");
            }
            return cutGroup(id, name, volumesToCut, engine(engineName));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private GroupSnapshotRecord cutGroup(String id, String name, List<VolumeRecord> sources, VolumeEngine engine)
            throws IOException {
        Instant now = Instant.now();
        List<SnapshotRecord> members = new ArrayList<>();
        for (VolumeRecord v : sources) {
            String memberId = Ids.groupMemberSnapshotId(id, v.id());
            members.add(new SnapshotRecord(memberId, name + "/" + v.id(), v.id(), v.engine(), v.capacityBytes(), id,
                    RecordState.CREATING, now));
        }
        GroupSnapshotRecord group = new GroupSnapshotRecord(id, name, sources.stream().map(VolumeRecord::id).toList(),
                members.stream().map(SnapshotRecord::id).toList(), RecordState.CREATING, now);
        groups.put(group);
        for (SnapshotRecord m : members) {
            snapshots.put(m);
        }
        CrashPoint.reach("group.create.recorded");
        try {
            engine.snapshotGroup(members, sources);
        } catch (IOException | RuntimeException e) {
            try {
                removeGroup(group);
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        for (SnapshotRecord m : members) {
            snapshots.put(m.withState(RecordState.READY));
        }
        GroupSnapshotRecord ready = group.withState(RecordState.READY);
        groups.put(ready);
        return ready;
    }

    /** Removes a group's snapshots and then the group, each record only after its storage. */
    private void removeGroup(GroupSnapshotRecord group) throws IOException {
        groups.put(group.withState(RecordState.DELETING));
        for (String memberId : group.snapshotIds()) {
            Optional<SnapshotRecord> member = snapshots.get(memberId);
            if (member.isPresent()) {
                snapshots.put(member.get().withState(RecordState.DELETING));
                engine(member.get().engine()).deleteSnapshot(memberId);
                snapshots.remove(memberId);
            }
        }
        groups.remove(group.id());
    }

    @Override
    public void deleteGroupSnapshot(String groupSnapshotId, List<String> snapshotIds) {
        Optional<GroupSnapshotRecord> found = groups.get(groupSnapshotId);
        if (found.isEmpty()) {
            return;
        }
        // The members are locked too, so that no restore from one of them runs while it goes.
        List<String> keys = new ArrayList<>(List.of(groupKey(groupSnapshotId)));
        found.get().snapshotIds().forEach(id -> keys.add(snapshotKey(id)));
        try (LockTable.Held held = locks.acquire(keys.toArray(String[]::new))) {
            found = groups.get(groupSnapshotId);
            if (found.isEmpty()) {
                return;
            }
            GroupSnapshotRecord group = found.get();
            if (!snapshotIds.isEmpty() && !Set.copyOf(snapshotIds).equals(Set.copyOf(group.snapshotIds()))) {
                throw CsiException.invalidArgument("snapshot_ids", "do not match the snapshots of group "
                        + groupSnapshotId + " " + group.snapshotIds());
            }
            removeGroup(group);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<GroupSnapshotRecord> findGroupSnapshot(String groupSnapshotId) {
        return groups.get(groupSnapshotId).filter(g -> g.state() == RecordState.READY);
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
        String problem = problems.get(volumeId);
        if (problem != null && volumes.get(volumeId).isPresent()) {
            return VolumeHealth.abnormal(problem);
        }
        VolumeRecord v = requireVolume(volumeId);
        return engine(v.engine()).health(v);
    }
}
