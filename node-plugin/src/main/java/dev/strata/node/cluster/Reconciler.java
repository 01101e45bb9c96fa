package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.NodeReport;
import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.SecretCopies;
import dev.strata.common.model.Secrets;
import dev.strata.node.storage.LocalStorage;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.cache.Store;
import io.grpc.Status;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this node's storage match one kind of its resources, by name: what is being deleted is
 * deleted, what is Pending is made, what is Ready is kept up to date; a Failed resource waits for the
 * controller to remove it. Resources of other nodes are never touched. The Failed report and the
 * deletion behind the finalizer are the same for every kind, and live here.
 */
abstract class Reconciler<T extends CustomResource<?, ? extends NodeReport>> {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    final KubernetesClient client;
    final LocalStorage storage;
    final Runnable storageChanged;
    private final String nodeId;
    private final Class<T> type;
    private final Store<T> store;

    Reconciler(KubernetesClient client, LocalStorage storage, String nodeId, Class<T> type, Store<T> store,
            Runnable storageChanged) {
        this.client = client;
        this.storage = storage;
        this.nodeId = nodeId;
        this.type = type;
        this.store = store;
        this.storageChanged = storageChanged;
    }

    /** True when done; false to be retried later. */
    final boolean reconcile(String name) {
        T resource = store.getByKey(name);
        if (resource == null || !nodeId.equals(node(resource))) {
            return true;
        }
        if (resource.getMetadata().getDeletionTimestamp() != null) {
            return delete(resource);
        }
        String phase = phase(resource);
        if (phase == null || phase.equals(Resources.PENDING)) {
            return create(resource);
        }
        return !phase.equals(Resources.READY) || refresh(resource);
    }

    abstract String node(T resource);

    /** The status of a copy about to be written, made empty on it first when it has none. */
    abstract NodeReport report(T resource);

    /** The status's phase, null before the node wrote one. (The informer's copy is never changed.) */
    private static String phase(CustomResource<?, ? extends NodeReport> resource) {
        return resource.getStatus() == null ? null : resource.getStatus().getPhase();
    }

    abstract boolean create(T resource);

    /**
     * Deletes the resource's storage (idempotent: gone already is done); a CsiException refuses (the
     * volume is in use, say). Its crash point is at the end, before the finalizer is let go.
     */
    abstract void deleteStorage(T resource);

    /**
     * The secrets of the copy the controller made for a resource ({@link SecretCopies}): none when it
     * names none; empty when the copy is not there yet (the controller writes it just after the
     * resource: the caller waits and is retried).
     */
    final Optional<Secrets> copiedSecrets(String secretName) {
        return secretName == null ? Optional.of(Secrets.NONE) : SecretCopies.read(client, secretName);
    }

    /** A Ready resource: applies what its spec asks now, and reports. */
    boolean refresh(T resource) {
        return true;
    }

    /**
     * Reports the resource Failed with the gRPC code the node's storage answered, at the generation
     * acted on; the controller returns that code and removes the resource. Done: true.
     */
    final boolean fail(T resource, String code, String message) {
        String name = resource.getMetadata().getName();
        long generation = resource.getMetadata().getGeneration();
        LOG.info("{} {} failed: {} {}", resource.getKind(), name, code, message);
        ResourceWrites.status(client, type, name, r -> {
            NodeReport st = report(r);
            st.setPhase(Resources.FAILED);
            st.setErrorCode(code);
            st.setMessage(message);
            st.setObservedGeneration(generation);
            st.setConditions(Resources.withCondition(st.getConditions(), Resources.CONDITION_READY, false, "Failed",
                    message, generation));
            return r;
        });
        return true;
    }

    /** {@link #fail} with a failure as {@link dev.strata.common.ErrorMapper} made it a status. */
    final boolean fail(T resource, Status status) {
        return fail(resource, status.getCode().name(), status.getDescription());
    }

    /**
     * Deletes the storage, then lets the finalizer go. A refusal is reported in the status and keeps
     * the deletion pending (false: retried later).
     */
    private boolean delete(T resource) {
        String name = resource.getMetadata().getName();
        if (!"true".equals(resource.getMetadata().getAnnotations().get(Resources.DELETE_STORAGE))) {
            // Not deleted by the controller: its CRD is going (kubectl delete -k), or a hand deleted it.
            // The data stays where it is; only the API object goes.
            LOG.warn("{} {} was deleted without a DeleteVolume or DeleteSnapshot (no {} annotation): its storage "
                    + "on this node is kept", resource.getKind(), name, Resources.DELETE_STORAGE);
            Finalizer.release(client, type, name);
            return true;
        }
        boolean done = Finalizer.deleteThenRelease(client, type, resource, () -> deleteStorage(resource),
                (r, e) -> {
                    report(r).setErrorCode(e.code().name());
                    report(r).setMessage(e.getMessage());
                });
        if (done) {
            LOG.info("{} {} deleted", resource.getKind(), name);
            storageChanged.run();
        }
        return done;
    }
}
