package dev.strata.api.v1alpha1;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.HttpURLConnection;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Writes the status (or the metadata and spec) of a resource from its newest version: read, change, write,
 * and again on a conflict. Writes nothing when the change changes nothing, so that a resync does not
 * make an update that makes a resync.
 */
public final class ResourceWrites {
    private static final int ATTEMPTS = 5;

    private ResourceWrites() {}

    /** Applies {@code change} to the resource's status; returns what it wrote, empty when the resource is gone. */
    public static <T extends HasMetadata> Optional<T> status(KubernetesClient client, Class<T> type, String name,
            UnaryOperator<T> change) {
        return write(client, type, name, change, true);
    }

    /** Applies {@code change} to the resource's metadata or spec; returns what it wrote, empty when it is gone. */
    public static <T extends HasMetadata> Optional<T> metadata(KubernetesClient client, Class<T> type, String name,
            UnaryOperator<T> change) {
        return write(client, type, name, change, false);
    }

    /**
     * Deletes the resource and, with it, its storage: marks it {@link Resources#DELETE_STORAGE} first
     * (also when it is already being deleted), so that the node plugin removes what it holds.
     */
    public static <T extends HasMetadata> void deleteWithStorage(KubernetesClient client, Class<T> type, String name) {
        Optional<T> marked = metadata(client, type, name, r -> {
            r.getMetadata().getAnnotations().put(Resources.DELETE_STORAGE, "true");
            return r;
        });
        if (marked.isPresent() && marked.get().getMetadata().getDeletionTimestamp() == null) {
            client.resources(type).withName(name).delete();
        }
    }

    private static <T extends HasMetadata> Optional<T> write(KubernetesClient client, Class<T> type, String name,
            UnaryOperator<T> change, boolean status) {
        for (int attempt = 1; ; attempt++) {
            T current = client.resources(type).withName(name).get();
            if (current == null) {
                return Optional.empty();
            }
            String before = Serialization.asJson(current);
            T changed = change.apply(Serialization.clone(current));
            if (Serialization.asJson(changed).equals(before)) {
                return Optional.of(current);
            }
            try {
                // Empty when the write let the resource go (its last finalizer removed).
                return Optional.ofNullable(status ? client.resource(changed).updateStatus()
                        : client.resource(changed).update());
            } catch (KubernetesClientException e) {
                if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                    return Optional.empty();
                }
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt == ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}
