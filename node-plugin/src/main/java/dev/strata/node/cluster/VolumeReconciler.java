package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.Conversions;
import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.api.v1alpha1.StrataVolumeStatus;
import dev.strata.common.CrashPoint;
import dev.strata.common.ErrorMapper;
import dev.strata.common.model.Ids;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.storage.LocalStorage;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.cache.Store;
import io.grpc.Status;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this node's storage match its StrataVolumes: creates what is Pending, grows and modifies what
 * is Ready, and deletes what is being deleted before it lets the finalizer go. Local storage is
 * idempotent by name, so a reconcile repeated after a crash finds the volume made and only reports it.
 */
final class VolumeReconciler extends Reconciler<StrataVolume> {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeReconciler.class);

    private final EventRecorder events;

    VolumeReconciler(KubernetesClient client, LocalStorage storage, String nodeId, Store<StrataVolume> store,
            Runnable storageChanged, EventRecorder events) {
        super(client, storage, nodeId, StrataVolume.class, store, storageChanged);
        this.events = events;
    }

    @Override
    String node(StrataVolume v) {
        return v.getSpec().getNode();
    }

    @Override
    boolean create(StrataVolume v) {
        String name = v.getMetadata().getName();
        long generation = v.getMetadata().getGeneration();
        if (!name.equals(Ids.volumeId(v.getSpec().getName()))) {
            return fail(v, "INVALID_ARGUMENT", "metadata.name must be " + Ids.volumeId(v.getSpec().getName())
                    + ", the volume ID of spec.name");
        }
        Optional<Secrets> secrets = copiedSecrets(v.getSpec().getSecretName());
        if (secrets.isEmpty()) {
            LOG.info("volume {}: waiting for its Secret {}", name, v.getSpec().getSecretName());
            return false;
        }
        Finalizer.hold(client, StrataVolume.class, v);
        VolumeRecord made;
        try {
            made = storage.createVolume(Conversions.volumeSpec(v.getSpec()).withSecrets(secrets.get()));
        } catch (RuntimeException e) {
            Status failure = ErrorMapper.toStatus(e); // what a standalone driver's CreateVolume answers
            if (failure.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                events.volume(v, EventRecorder.Type.WARNING, "NotEnoughCapacity", "CreateVolume",
                        "node " + v.getSpec().getNode() + " cannot make the volume: " + failure.getDescription());
            }
            return fail(v, failure);
        }
        CrashPoint.reach("node.volume.made");
        ResourceWrites.status(client, StrataVolume.class, name, r -> {
            StrataVolumeStatus st = report(r);
            st.setPhase(Resources.READY);
            st.setCreatedAt(made.createdAt().toString());
            st.setMessage("made on node " + made.nodeId());
            st.setErrorCode(null);
            fill(st, made, generation);
            st.setConditions(Resources.withCondition(st.getConditions(), Resources.CONDITION_READY, true, "Made",
                    "the volume is ready", generation));
            return r;
        });
        LOG.info("volume {} ({}) ready: {} bytes, engine {}", name, made.name(), made.capacityBytes(), made.engine());
        storageChanged.run();
        return true;
    }

    /** A Ready volume: grows it or applies new mutable parameters when the spec asks, and reports it. */
    @Override
    boolean refresh(StrataVolume v) {
        String name = v.getMetadata().getName();
        long generation = v.getMetadata().getGeneration();
        Optional<VolumeRecord> found = storage.findVolume(name);
        if (found.isEmpty()) {
            // Never made again: an empty volume in place of lost data would hide the loss.
            healthEvent(v, VolumeHealth.abnormal("the volume's storage is missing on node " + v.getSpec().getNode()));
            ResourceWrites.status(client, StrataVolume.class, name, r -> {
                StrataVolumeStatus st = report(r);
                st.setConditions(Resources.withCondition(st.getConditions(), Resources.CONDITION_HEALTHY, false,
                        "StorageMissing", "the volume's storage is missing on node " + v.getSpec().getNode(),
                        generation));
                return r;
            });
            return true;
        }
        VolumeRecord current = found.get();
        Status error = null;
        try {
            if (v.getSpec().getRequiredBytes() > current.capacityBytes()) {
                current = storage.expandVolume(name, v.getSpec().getRequiredBytes(), v.getSpec().getLimitBytes());
                storageChanged.run();
            }
            Map<String, String> changed = changedParameters(v, current);
            if (!changed.isEmpty()) {
                current = storage.modifyVolume(name, changed);
            }
        } catch (RuntimeException e) {
            error = ErrorMapper.toStatus(e);
        }
        if (error != null && v.getSpec().getRequiredBytes() > current.capacityBytes()) {
            // The resizer's own event says the same on the claim; this one is on the StrataVolume too, and
            // carries the engine's reason (a volume in use that can only grow unmounted: stop its pods).
            events.volume(v, EventRecorder.Type.WARNING, "VolumeResizeFailed", "ExpandVolume",
                    error.getDescription());
        }
        VolumeRecord now = current;
        Status problem = error;
        VolumeHealth health = storage.health(name);
        healthEvent(v, health);
        ResourceWrites.status(client, StrataVolume.class, name, r -> {
            StrataVolumeStatus st = report(r);
            fill(st, now, generation);
            st.setErrorCode(problem == null ? null : problem.getCode().name());
            st.setMessage(problem == null ? "ready on node " + now.nodeId() : problem.getDescription());
            st.setConditions(Resources.withCondition(st.getConditions(), Resources.CONDITION_HEALTHY,
                    !health.abnormal(), health.abnormal() ? "Abnormal" : "Healthy", health.message(), generation));
            return r;
        });
        return true;
    }

    /** An event when the Healthy condition changes, not at every resync. */
    private void healthEvent(StrataVolume v, VolumeHealth health) {
        Boolean wasHealthy = healthy(v);
        if (health.abnormal() && !Boolean.FALSE.equals(wasHealthy)) {
            events.volume(v, EventRecorder.Type.WARNING, "VolumeAbnormal", "CheckHealth", health.message());
        } else if (!health.abnormal() && Boolean.FALSE.equals(wasHealthy)) {
            events.volume(v, EventRecorder.Type.NORMAL, "VolumeHealthy", "CheckHealth", "the volume is healthy again");
        }
    }

    /** The Healthy condition as last written; null before there is one. */
    private static Boolean healthy(StrataVolume v) {
        return Resources.condition(v.getStatus() == null ? null : v.getStatus().getConditions(),
                Resources.CONDITION_HEALTHY).map(c -> "True".equals(c.getStatus())).orElse(null);
    }

    private static Map<String, String> changedParameters(StrataVolume v, VolumeRecord current) {
        Map<String, String> changed = new HashMap<>();
        Map<String, String> wanted = v.getSpec().getMutableParameters() == null ? Map.of()
                : v.getSpec().getMutableParameters();
        wanted.forEach((k, value) -> {
            if (!Objects.equals(current.mutableParameters().get(k), value)) {
                changed.put(k, value);
            }
        });
        return changed;
    }

    private void fill(StrataVolumeStatus st, VolumeRecord record, long generation) {
        st.setCapacityBytes(record.capacityBytes());
        st.setAttributes(record.attributes().isEmpty() ? null : new java.util.TreeMap<>(record.attributes()));
        st.setPath(record.attributes().getOrDefault("device", record.attributes().get("path")));
        List<String> published = storage.publishedNodes(record.id());
        st.setPublishedNodes(published.isEmpty() ? null : published);
        st.setObservedGeneration(generation);
    }

    /** In use, say: refused, and the resource stays (its deletion pending) while the controller reports why. */
    @Override
    void deleteStorage(StrataVolume v) {
        storage.deleteVolume(v.getMetadata().getName());
        CrashPoint.reach("node.volume.deleted");
    }

    @Override
    StrataVolumeStatus report(StrataVolume r) {
        if (r.getStatus() == null) {
            r.setStatus(new StrataVolumeStatus());
        }
        return r.getStatus();
    }
}
