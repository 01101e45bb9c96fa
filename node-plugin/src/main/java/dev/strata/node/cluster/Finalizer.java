package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.common.CsiException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.function.BiConsumer;

/**
 * The node's finalizer on its volumes and snapshots: held before any storage is made, released once
 * the storage is gone, so that nothing the controller deletes leaves the API server while it still
 * exists on disk; or released at once, keeping the storage, when the resource goes without the
 * controller's word (Reconciler).
 */
final class Finalizer {
    private Finalizer() {}

    static boolean held(HasMetadata resource) {
        return resource.getMetadata().getFinalizers().contains(Resources.FINALIZER);
    }

    /** Adds the finalizer where the controller did not (a resource made by hand). */
    static <T extends HasMetadata> void hold(KubernetesClient client, Class<T> type, T resource) {
        if (!held(resource)) {
            ResourceWrites.metadata(client, type, resource.getMetadata().getName(), r -> {
                r.getMetadata().getFinalizers().add(Resources.FINALIZER);
                return r;
            });
        }
    }

    /**
     * Deletes the storage, then releases the finalizer (which lets the resource go). A refusal (the
     * volume is in use, say) is written to the status by {@code recordRefusal} and keeps the deletion
     * pending: false, to be retried.
     */
    static <T extends HasMetadata> boolean deleteThenRelease(KubernetesClient client, Class<T> type, T resource,
            Runnable deleteStorage, BiConsumer<T, CsiException> recordRefusal) {
        String name = resource.getMetadata().getName();
        if (!held(resource)) {
            return true;
        }
        try {
            deleteStorage.run();
        } catch (CsiException e) {
            ResourceWrites.status(client, type, name, r -> {
                recordRefusal.accept(r, e);
                return r;
            });
            return false;
        }
        release(client, type, name);
        return true;
    }

    /** Lets the resource go, whatever its storage: the caller has deleted it, or keeps it on purpose. */
    static <T extends HasMetadata> void release(KubernetesClient client, Class<T> type, String name) {
        ResourceWrites.metadata(client, type, name, r -> {
            r.getMetadata().getFinalizers().remove(Resources.FINALIZER);
            return r;
        });
    }
}
