package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataSnapshotStatus;
import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.model.Ids;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.node.storage.LocalStorage;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.cache.Store;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes this node's StrataSnapshots and deletes them when asked, then lets the finalizer go. Taking a
 * snapshot is idempotent by name, so a repeated reconcile finds the snapshot taken.
 */
final class SnapshotReconciler extends Reconciler<StrataSnapshot> {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotReconciler.class);

    SnapshotReconciler(KubernetesClient client, LocalStorage storage, String nodeId, Store<StrataSnapshot> store,
            Runnable storageChanged) {
        super(client, storage, nodeId, StrataSnapshot.class, store, storageChanged);
    }

    @Override
    String node(StrataSnapshot s) {
        return s.getSpec().getNode();
    }

    /** Takes the snapshot. */
    @Override
    boolean create(StrataSnapshot s) {
        String name = s.getMetadata().getName();
        if (!name.equals(Ids.snapshotId(s.getSpec().getName()))) {
            return fail(s, "INVALID_ARGUMENT", "metadata.name must be " + Ids.snapshotId(s.getSpec().getName())
                    + ", the snapshot ID of spec.name");
        }
        Finalizer.hold(client, StrataSnapshot.class, s);
        SnapshotRecord taken;
        try {
            taken = storage.createSnapshot(s.getSpec().getName(), s.getSpec().getSourceVolume(),
                    s.getSpec().getParameters() == null ? Map.of() : s.getSpec().getParameters());
        } catch (CsiException e) {
            return fail(s, e.code().name(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("snapshot {}: failed", name, e);
            return fail(s, "INTERNAL", e.toString());
        }
        CrashPoint.reach("node.snapshot.taken");
        ResourceWrites.status(client, StrataSnapshot.class, name, r -> {
            StrataSnapshotStatus st = report(r);
            st.setPhase(Resources.READY);
            st.setReadyToUse(true);
            st.setSizeBytes(taken.sizeBytes());
            st.setEngine(taken.engine());
            st.setCreatedAt(taken.createdAt().toString());
            st.setErrorCode(null);
            st.setMessage("taken on node " + s.getSpec().getNode());
            st.setObservedGeneration(r.getMetadata().getGeneration());
            st.setConditions(Resources.withCondition(st.getConditions(), Resources.CONDITION_READY, true, "Taken",
                    "the snapshot is ready", r.getMetadata().getGeneration()));
            return r;
        });
        LOG.info("snapshot {} ({}) of {} ready", name, taken.name(), taken.sourceVolumeId());
        storageChanged.run();
        return true;
    }

    @Override
    void deleteStorage(String name) {
        storage.deleteSnapshot(name);
        CrashPoint.reach("node.snapshot.deleted");
    }

    @Override
    StrataSnapshotStatus report(StrataSnapshot r) {
        if (r.getStatus() == null) {
            r.setStatus(new StrataSnapshotStatus());
        }
        return r.getStatus();
    }
}
