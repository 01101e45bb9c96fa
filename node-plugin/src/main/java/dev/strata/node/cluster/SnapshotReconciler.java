package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.Conversions;
import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataSnapshotStatus;
import dev.strata.common.CrashPoint;
import dev.strata.common.ErrorMapper;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Ids;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.node.storage.LocalStorage;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.cache.Store;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes this node's StrataSnapshots and deletes them when asked, then lets the finalizer go. Taking a
 * snapshot is idempotent by name, so a repeated reconcile finds the snapshot taken. A snapshot with a
 * backup target is reported taken at once, and ready to use once its backup is stored.
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
        Optional<Secrets> secrets = copiedSecrets(s.getSpec().getSecretName());
        if (secrets.isEmpty()) {
            LOG.info("snapshot {}: waiting for its Secret {}", name, s.getSpec().getSecretName());
            return false;
        }
        Finalizer.hold(client, StrataSnapshot.class, s);
        SnapshotRecord taken;
        try {
            taken = storage.createSnapshot(s.getSpec().getName(), s.getSpec().getSourceVolume(), parameters(s),
                    secrets.get());
        } catch (RuntimeException e) {
            return fail(s, ErrorMapper.toStatus(e)); // what a standalone driver's CreateSnapshot answers
        }
        CrashPoint.reach("node.snapshot.taken");
        reportTaken(s, taken);
        LOG.info("snapshot {} ({}) of {} taken{}", name, taken.name(), taken.sourceVolumeId(),
                taken.backup() == null ? "" : "; its backup to " + taken.backup().target() + " is uploading");
        storageChanged.run();
        return taken.readyToUse(); // false while its backup uploads: refresh follows it, with the back-off
    }

    /**
     * A snapshot whose backup is not stored yet: asks for it again, which is what a repeated
     * CreateSnapshot does (a failed or interrupted upload starts again; one running is left to run),
     * reports what changed, and is retried with the back-off until the backup is stored. A failed
     * upload is reported Failed as it is tried again (the controller answers CreateSnapshot with the
     * failure, which the CO shows as the VolumeSnapshot's error), and Uploading at the next refresh if
     * that try still runs. The snapshot itself is never Failed: the controller deletes a Failed
     * snapshot with its storage, and the local snapshot is fine; only its upload has to be tried again.
     */
    @Override
    boolean refresh(StrataSnapshot s) {
        if (s.getStatus().isReadyToUse()) {
            return true;
        }
        if (storage.findSnapshot(s.getMetadata().getName()).isEmpty()) {
            // Reported taken, but this node keeps no such snapshot now: asking again would cut a new
            // one, of the volume as it is now, under the name of the one acknowledged. Left as it is.
            LOG.warn("snapshot {} is reported taken but this node has no record of it; its backup is not retried",
                    s.getMetadata().getName());
            return true;
        }
        Optional<Secrets> secrets = copiedSecrets(s.getSpec().getSecretName());
        if (secrets.isEmpty()) {
            LOG.info("snapshot {}: its Secret {} is gone; its backup is tried again once it is back",
                    s.getMetadata().getName(), s.getSpec().getSecretName());
            return false;
        }
        SnapshotRecord now;
        try {
            now = storage.createSnapshot(s.getSpec().getName(), s.getSpec().getSourceVolume(), parameters(s),
                    secrets.get());
        } catch (RuntimeException e) {
            LOG.info("snapshot {}: its backup is not stored yet ({}); tried again later", s.getMetadata().getName(),
                    e.getMessage());
            return false;
        }
        StrataSnapshotStatus was = s.getStatus();
        // The message says the backup's phase, and why an upload failed: a change of either is reported.
        if (now.readyToUse() != was.isReadyToUse() || !Objects.equals(message(s, now), was.getMessage())) {
            reportTaken(s, now);
            LOG.info("snapshot {}: {}", s.getMetadata().getName(), message(s, now));
        }
        return now.readyToUse();
    }

    /** Phase Ready (taken), ready to use once its backup, if it has a target, is stored. */
    private void reportTaken(StrataSnapshot s, SnapshotRecord taken) {
        ResourceWrites.status(client, StrataSnapshot.class, s.getMetadata().getName(), r -> {
            StrataSnapshotStatus st = report(r);
            st.setPhase(Resources.READY);
            st.setReadyToUse(taken.readyToUse());
            Conversions.reportBackup(st, taken.backup());
            st.setSizeBytes(taken.sizeBytes());
            st.setEngine(taken.engine());
            st.setCreatedAt(taken.createdAt().toString());
            st.setErrorCode(null);
            st.setMessage(message(s, taken));
            st.setObservedGeneration(r.getMetadata().getGeneration());
            st.setConditions(Resources.withCondition(st.getConditions(), Resources.CONDITION_READY,
                    taken.readyToUse(), taken.readyToUse() ? "Taken" : "BackupNotStored", taken.readyToUse()
                            ? "the snapshot is ready" : "the snapshot is taken; its backup is not stored yet",
                    r.getMetadata().getGeneration()));
            return r;
        });
    }

    private static Map<String, String> parameters(StrataSnapshot s) {
        return s.getSpec().getParameters() == null ? Map.of() : s.getSpec().getParameters();
    }

    private static String message(StrataSnapshot s, SnapshotRecord taken) {
        String where = "taken on node " + s.getSpec().getNode();
        BackupRef b = taken.backup();
        if (b == null) {
            return where;
        }
        return where + switch (b.phase()) {
            case UPLOADING -> "; its backup to " + b.target() + (b.message().isEmpty() ? " is uploading"
                    : " is uploading again; the last try failed: " + b.message());
            case STORED -> "; its backup is stored at " + b.url();
            case FAILED -> "; its backup to " + b.target() + " failed (tried again): " + b.message();
        };
    }

    @Override
    void deleteStorage(StrataSnapshot s) {
        // A copy gone already (its owner was deleted by hand) leaves the node's own secrets to try.
        storage.deleteSnapshot(s.getMetadata().getName(), copiedSecrets(s.getSpec().getSecretName())
                .orElse(Secrets.NONE));
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
