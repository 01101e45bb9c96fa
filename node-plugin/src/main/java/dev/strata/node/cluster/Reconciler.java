package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.Resources;
import dev.strata.node.storage.LocalStorage;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.cache.Store;

/**
 * Makes this node's storage match one kind of its resources, by name: what is being deleted is
 * deleted, what is Pending is made, what is Ready is kept up to date; a Failed resource waits for the
 * controller to remove it. Resources of other nodes are never touched.
 */
abstract class Reconciler<T extends HasMetadata> {
    final KubernetesClient client;
    final LocalStorage storage;
    final Runnable storageChanged;
    private final Store<T> store;

    Reconciler(KubernetesClient client, LocalStorage storage, Store<T> store, Runnable storageChanged) {
        this.client = client;
        this.storage = storage;
        this.store = store;
        this.storageChanged = storageChanged;
    }

    /** True when done; false to be retried later. */
    final boolean reconcile(String name) {
        T resource = store.getByKey(name);
        if (resource == null || !storage.config().nodeId().equals(node(resource))) {
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

    /** The status's phase, null before the node wrote one. */
    abstract String phase(T resource);

    abstract boolean create(T resource);

    abstract boolean delete(T resource);

    /** A Ready resource: applies what its spec asks now, and reports. */
    boolean refresh(T resource) {
        return true;
    }
}
