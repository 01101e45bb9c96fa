package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.common.CsiException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.function.BiConsumer;

/**
 * The node's finalizer on its volumes and snapshots: held before any storage is made, released only
 * once the storage is gone, so that nothing leaves the API server while it still exists on disk.
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
        ResourceWrites.metadata(client, type, name, r -> {
            r.getMetadata().getFinalizers().remove(Resources.FINALIZER);
            return r;
        });
        return true;
    }
}
