package dev.strata.controller.cluster;

import dev.strata.api.v1alpha1.Conversions;
import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.SecretCopies;
import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataSnapshotSpec;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.api.v1alpha1.StrataVolumeSpec;
import dev.strata.common.CsiException;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.Ids;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.common.port.Provisioner;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Provisioner of a cluster: every volume and snapshot is a custom resource for the node that must
 * hold it. A call writes the resource, then waits (on the informers' caches) until that node reports
 * it Ready or Failed. Resource names are the CSI IDs, derived from the request names, so a retried or
 * restarted call finds what the first one wrote and never makes a second volume.
 */
public final class ClusterProvisioner implements Provisioner, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterProvisioner.class);

    private final KubernetesClient client;
    private final String defaultEngine;
    private final Duration longestWait;
    private final SharedIndexInformer<StrataVolume> volumes;
    private final SharedIndexInformer<StrataSnapshot> snapshots;
    private final SharedIndexInformer<StrataNode> nodes;
    private final Waiters<StrataVolume> volumeWaiters;
    private final Waiters<StrataSnapshot> snapshotWaiters;
    private final NodeRequests requests;

    private ClusterProvisioner(KubernetesClient client, String defaultEngine, Duration longestWait) {
        this.client = client;
        this.defaultEngine = defaultEngine;
        this.longestWait = longestWait;
        this.requests = new NodeRequests(client, longestWait);
        this.volumes = client.resources(StrataVolume.class).runnableInformer(0);
        this.snapshots = client.resources(StrataSnapshot.class).runnableInformer(0);
        this.nodes = client.resources(StrataNode.class).runnableInformer(0);
        this.volumeWaiters = new Waiters<>(volumes.getStore(), "volume");
        this.snapshotWaiters = new Waiters<>(snapshots.getStore(), "snapshot");
        volumes.addEventHandler(volumeWaiters);
        snapshots.addEventHandler(snapshotWaiters);
    }

    /**
     * Starts the informers and returns once their caches hold what the API server has.
     * {@code longestWait} bounds how long a call waits for a node (the caller's deadline may end it sooner).
     */
    public static ClusterProvisioner start(KubernetesClient client, String defaultEngine, Duration longestWait)
            throws Exception {
        ClusterProvisioner p = new ClusterProvisioner(client, defaultEngine, longestWait);
        for (SharedIndexInformer<?> informer : List.of(p.volumes, p.snapshots, p.nodes)) {
            informer.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
        LOG.info("cluster provisioner ready: {} volumes, {} snapshots, nodes {}", p.volumes.getStore().list().size(),
                p.snapshots.getStore().list().size(), p.nodes());
        return p;
    }

    /** The controller's waits for its nodes, as metrics. */
    public List<Sample> samples() {
        List<Sample> all = new ArrayList<>(volumeWaiters.samples());
        all.addAll(snapshotWaiters.samples());
        return all;
    }

    @Override
    public void close() {
        volumes.close();
        snapshots.close();
        nodes.close();
    }

    // ---- volumes --------------------------------------------------------------------------------

    @Override
    public VolumeRecord createVolume(VolumeSpec spec) {
        String id = Ids.volumeId(spec.name());
        StrataVolume existing = volumes.getStore().getByKey(id);
        // A retry is held to what was made, not to its source as it is now (it may be gone since).
        String engine = existing != null && !spec.parameters().containsKey(Conversions.ENGINE_PARAMETER)
                ? existing.getSpec().getEngine() : engineName(spec);
        if (existing == null) {
            Placement placed = Placement.of(spec, engine, registered(), spec.source() == null ? Optional.empty()
                    : source(spec.source()));
            StrataVolume wanted = new StrataVolume();
            wanted.setMetadata(NodeRequests.meta(id, placed.node()));
            wanted.setSpec(Conversions.volumeSpec(spec, placed.node(), engine));
            if (placed.backupUrl() != null) {
                wanted.getSpec().getContentSource().setBackupUrl(placed.backupUrl());
            }
            wanted.getSpec().setSecretName(placed.restoreSecretName(id, spec));
            existing = requests.create(wanted);
        }
        StrataVolumeSpec requested = Conversions.volumeSpec(spec, existing.getSpec().getNode(), engine);
        if (!Conversions.sameRequest(existing.getSpec(), requested)) {
            requests.refuseWhileLeaving(existing, "CreateVolume " + spec.name());
            throw CsiException.alreadyExists("volume " + spec.name() + " exists with different parameters, "
                    + "capabilities or content source");
        }
        copySecrets(existing, existing.getSpec().getSecretName(), spec.secrets()); // only for the same request
        VolumeRecord record = Conversions.volumeRecord(requests.settle(volumeWaiters, id,
                "CreateVolume " + spec.name()));
        if (record.capacityBytes() < spec.requiredBytes()
                || (spec.limitBytes() > 0 && record.capacityBytes() > spec.limitBytes())) {
            throw CsiException.alreadyExists("volume " + spec.name() + " exists with " + record.capacityBytes()
                    + " bytes, outside capacity_range");
        }
        return record;
    }

    /** The engine parameters name, else the source's engine, else the default one. */
    private String engineName(VolumeSpec spec) {
        String named = spec.parameters().get(Conversions.ENGINE_PARAMETER);
        if (named != null) {
            return named;
        }
        if (spec.source() != null) {
            return source(spec.source()).map(this::engineOf).orElse(defaultEngine);
        }
        return defaultEngine;
    }

    private String engineOf(HasMetadata resource) {
        return resource instanceof StrataVolume v ? v.getSpec().getEngine()
                : Objects.requireNonNullElse(((StrataSnapshot) resource).getStatus().getEngine(), defaultEngine);
    }

    private Optional<HasMetadata> source(ContentSource source) {
        return Optional.ofNullable(source.kind() == ContentSource.Kind.SNAPSHOT
                ? snapshots.getStore().getByKey(source.id()) : volumes.getStore().getByKey(source.id()));
    }

    /** Writes the call's secrets into the resource's own copy, when it names its own. */
    private void copySecrets(HasMetadata resource, String secretName, Secrets secrets) {
        if (!secrets.isEmpty() && SecretCopies.name(resource.getMetadata().getName()).equals(secretName)) {
            SecretCopies.write(client, secretName, resource, secrets);
        }
    }

    @Override
    public void deleteVolume(String volumeId) {
        StrataVolume v = volumes.getStore().getByKey(volumeId);
        if (v == null) {
            return;
        }
        ResourceWrites.deleteWithStorage(client, StrataVolume.class, volumeId);
        requests.awaitGone(volumeWaiters, volumeId, "DeleteVolume " + volumeId);
    }

    @Override
    public Optional<VolumeRecord> findVolume(String volumeId) {
        return Optional.ofNullable(volumes.getStore().getByKey(volumeId)).filter(ClusterProvisioner::ready)
                .map(Conversions::volumeRecord);
    }

    private static boolean ready(StrataVolume v) {
        return v.getStatus() != null && Resources.READY.equals(v.getStatus().getPhase());
    }

    @Override
    public List<VolumeRecord> listVolumes() {
        return volumes.getStore().list().stream().filter(ClusterProvisioner::ready).map(Conversions::volumeRecord)
                .sorted(Comparator.comparing(VolumeRecord::id)).toList();
    }

    @Override
    public VolumeRecord expandVolume(String volumeId, long requiredBytes, long limitBytes) {
        StrataVolume v = requireReady(volumeId);
        if (requiredBytes <= v.getStatus().getCapacityBytes()) {
            return Conversions.volumeRecord(v);
        }
        long max = registered().maximumVolumeBytes(v.getSpec().getNode(), v.getSpec().getEngine());
        if (max > 0 && requiredBytes > max) {
            throw CsiException.outOfRange("capacity_range.required_bytes", requiredBytes
                    + " bytes is more than the largest volume node " + v.getSpec().getNode() + " can hold (" + max
                    + " bytes)");
        }
        StrataVolume edited = ResourceWrites.metadata(client, StrataVolume.class, volumeId, r -> {
            r.getSpec().setRequiredBytes(Math.max(r.getSpec().getRequiredBytes(), requiredBytes));
            return r;
        }).orElseThrow(() -> CsiException.notFound("volume " + volumeId + " does not exist"));
        long generation = edited.getMetadata().getGeneration();
        StrataVolume done = volumeWaiters.await(volumeId, o -> o.isEmpty() || o.get().getStatus()
                .getCapacityBytes() >= requiredBytes || failedAt(o.get(), generation), longestWait,
                "ControllerExpandVolume " + volumeId).orElseThrow(() -> CsiException.notFound("volume " + volumeId
                        + " was deleted meanwhile"));
        if (done.getStatus().getCapacityBytes() < requiredBytes) {
            throw NodeErrors.toCsi(done.getStatus(), done);
        }
        return Conversions.volumeRecord(done);
    }

    /** Whether the node reported an error for this generation of the spec (or a later one). */
    private static boolean failedAt(StrataVolume v, long generation) {
        Long observed = v.getStatus().getObservedGeneration();
        return observed != null && observed >= generation && v.getStatus().getErrorCode() != null;
    }

    @Override
    public VolumeRecord modifyVolume(String volumeId, Map<String, String> mutableParameters) {
        StrataVolume v = requireReady(volumeId);
        EngineTraits traits = engineFor(Map.of(Conversions.ENGINE_PARAMETER, v.getSpec().getEngine()));
        for (String key : mutableParameters.keySet()) {
            if (!traits.mutableParameterKeys().contains(key)) {
                throw CsiException.invalidArgument("mutable_parameters." + key, "the " + traits.name()
                        + " engine has no such mutable parameter");
            }
        }
        StrataVolume edited = ResourceWrites.metadata(client, StrataVolume.class, volumeId, r -> {
            Map<String, String> merged = new HashMap<>(Objects.requireNonNullElse(r.getSpec().getMutableParameters(),
                    Map.of()));
            merged.putAll(mutableParameters);
            r.getSpec().setMutableParameters(new TreeMap<>(merged));
            return r;
        }).orElseThrow(() -> CsiException.notFound("volume " + volumeId + " does not exist"));
        long generation = edited.getMetadata().getGeneration();
        StrataVolume done = volumeWaiters.await(volumeId, o -> o.isEmpty() || observed(o.get(), generation),
                longestWait, "ControllerModifyVolume " + volumeId).orElseThrow(() -> CsiException.notFound("volume "
                        + volumeId + " was deleted meanwhile"));
        if (done.getStatus().getErrorCode() != null) {
            // Refused by the node (a value its engine does not take): the spec goes back to what the
            // volume has, so that the node does not retry the refused value at every resync.
            Map<String, String> before = v.getSpec().getMutableParameters();
            ResourceWrites.metadata(client, StrataVolume.class, volumeId, r -> {
                r.getSpec().setMutableParameters(before);
                return r;
            });
            throw NodeErrors.toCsi(done.getStatus(), done);
        }
        return Conversions.volumeRecord(done);
    }

    private static boolean observed(StrataVolume v, long generation) {
        Long observed = v.getStatus().getObservedGeneration();
        return observed != null && observed >= generation;
    }

    private StrataVolume requireReady(String volumeId) {
        StrataVolume v = volumes.getStore().getByKey(volumeId);
        if (v == null || !ready(v)) {
            throw CsiException.notFound("volume " + volumeId + " does not exist");
        }
        return v;
    }

    // ---- snapshots ------------------------------------------------------------------------------

    @Override
    public SnapshotRecord createSnapshot(String name, String sourceVolumeId, Map<String, String> parameters,
            Secrets secrets) {
        String id = Ids.snapshotId(name);
        StrataSnapshot existing = snapshots.getStore().getByKey(id);
        if (existing == null) {
            StrataVolume source = requireReady(sourceVolumeId);
            StrataSnapshot wanted = new StrataSnapshot();
            wanted.setMetadata(NodeRequests.meta(id, source.getSpec().getNode()));
            StrataSnapshotSpec spec = new StrataSnapshotSpec();
            spec.setNode(source.getSpec().getNode());
            spec.setName(name);
            spec.setSourceVolume(sourceVolumeId);
            spec.setParameters(new TreeMap<>(parameters));
            // The backup's secrets go to the node as a Secret of its own, never in the resource.
            spec.setSecretName(secrets.isEmpty() || !parameters.containsKey(BackupRef.TARGET_PARAMETER) ? null
                    : SecretCopies.name(id));
            wanted.setSpec(spec);
            existing = requests.create(wanted);
        }
        if (!existing.getSpec().getSourceVolume().equals(sourceVolumeId)) {
            requests.refuseWhileLeaving(existing, "CreateSnapshot " + name);
            throw CsiException.alreadyExists("snapshot " + name + " exists for another volume ("
                    + existing.getSpec().getSourceVolume() + ")");
        }
        String hadTarget = Objects.requireNonNullElse(existing.getSpec().getParameters(), Map.<String, String>of())
                .get(BackupRef.TARGET_PARAMETER);
        if (!Objects.equals(hadTarget, parameters.get(BackupRef.TARGET_PARAMETER))) {
            requests.refuseWhileLeaving(existing, "CreateSnapshot " + name);
            throw CsiException.alreadyExists("snapshot " + name + " exists with " + (hadTarget == null
                    ? "no backup target" : "backup target " + hadTarget) + ", not "
                    + Objects.requireNonNullElse(parameters.get(BackupRef.TARGET_PARAMETER), "none"));
        }
        copySecrets(existing, existing.getSpec().getSecretName(), secrets); // only for the same request
        return Conversions.snapshotRecord(requests.settle(snapshotWaiters, id, "CreateSnapshot " + name));
    }

    @Override
    public void deleteSnapshot(String snapshotId, Secrets secrets) {
        StrataSnapshot s = snapshots.getStore().getByKey(snapshotId);
        if (s == null) {
            return;
        }
        copySecrets(s, s.getSpec().getSecretName(), secrets); // what removes the backup, should it have changed
        ResourceWrites.deleteWithStorage(client, StrataSnapshot.class, snapshotId);
        requests.awaitGone(snapshotWaiters, snapshotId, "DeleteSnapshot " + snapshotId);
    }

    @Override
    public Optional<SnapshotRecord> findSnapshot(String snapshotId) {
        return Optional.ofNullable(snapshots.getStore().getByKey(snapshotId)).filter(ClusterProvisioner::ready)
                .map(Conversions::snapshotRecord);
    }

    /** Taken: listed, with ready_to_use false until its backup (if it has a target) is stored. */
    private static boolean ready(StrataSnapshot s) {
        return s.getStatus() != null && Resources.READY.equals(s.getStatus().getPhase());
    }

    @Override
    public List<SnapshotRecord> listSnapshots() {
        return snapshots.getStore().list().stream().filter(ClusterProvisioner::ready)
                .map(Conversions::snapshotRecord).sorted(Comparator.comparing(SnapshotRecord::id)).toList();
    }

    // ---- nodes and capacity ---------------------------------------------------------------------

    @Override
    public Capacity capacity(Map<String, String> parameters, String node) {
        return registered().capacity(parameters.getOrDefault(Conversions.ENGINE_PARAMETER, defaultEngine), node);
    }

    private RegisteredNodes registered() {
        return new RegisteredNodes(nodes.getStore().list());
    }

    @Override
    public List<String> publishedNodes(String volumeId) {
        StrataVolume v = volumes.getStore().getByKey(volumeId);
        return v == null || v.getStatus() == null || v.getStatus().getPublishedNodes() == null ? List.of()
                : List.copyOf(v.getStatus().getPublishedNodes());
    }

    @Override
    public VolumeHealth health(String volumeId) {
        return Conversions.health(requireReady(volumeId).getStatus());
    }

    @Override
    public EngineTraits engineFor(Map<String, String> parameters) {
        return registered().traits(parameters.getOrDefault(Conversions.ENGINE_PARAMETER, defaultEngine));
    }

    @Override
    public List<String> nodes() {
        return registered().names();
    }
}
