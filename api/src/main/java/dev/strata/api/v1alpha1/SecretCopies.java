package dev.strata.api.v1alpha1;

import dev.strata.common.model.Secrets;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * How a call's secrets reach the node that acts on them. The external-snapshotter and -provisioner
 * hand the controller the data of the Secret a class names, never its name; the controller copies it
 * into a Secret of its own namespace, named for the resource and owned by it (so the garbage
 * collector removes it after the resource is gone, finalizers and all), and the resource's
 * {@code spec.secretName} names the copy. The node reads it there. Neither plugin reads Secrets
 * anywhere else, and no secret value is ever in a custom resource.
 */
public final class SecretCopies {
    /** Where the copies live when the client names no namespace (a test's mock API server). */
    static final String DEFAULT_NAMESPACE = "strata-system";
    private static final String COPY_LABEL = Resources.GROUP + "/secrets-of";

    private SecretCopies() {}

    /** The copy's name for a StrataVolume or StrataSnapshot. */
    public static String name(String resourceName) {
        return "strata-secrets-" + resourceName;
    }

    /**
     * Writes (or brings up to date) the copy of {@code secrets} named {@code name}, owned by {@code owner}:
     * a retried call after a crash between the resource and its copy makes the copy, and a call with
     * rotated credentials updates it.
     */
    public static void write(KubernetesClient client, String name, HasMetadata owner, Secrets secrets) {
        Map<String, String> data = new TreeMap<>();
        secrets.values().forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(
                v.getBytes(StandardCharsets.UTF_8))));
        Secret wanted = new SecretBuilder().withNewMetadata().withName(name).withNamespace(namespace(client))
                .addToLabels(COPY_LABEL, owner.getMetadata().getName())
                .addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion(owner.getApiVersion())
                        .withKind(owner.getKind()).withName(owner.getMetadata().getName())
                        .withUid(owner.getMetadata().getUid()).build())
                .endMetadata().withType("Opaque").withData(data).build();
        Secret current = client.secrets().inNamespace(namespace(client)).withName(name).get();
        if (current == null) {
            try {
                client.secrets().inNamespace(namespace(client)).resource(wanted).create();
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
                current = client.secrets().inNamespace(namespace(client)).withName(name).get();
            }
        }
        if (current != null && !Objects.equals(current.getData(), data)) {
            current.setData(data);
            client.secrets().inNamespace(namespace(client)).resource(current).update();
        }
    }

    /** The secrets in the copy {@code name}; empty when it is not there (yet, or any more). */
    public static Optional<Secrets> read(KubernetesClient client, String name) {
        Secret s = client.secrets().inNamespace(namespace(client)).withName(name).get();
        if (s == null) {
            return Optional.empty();
        }
        Map<String, String> values = new HashMap<>();
        Objects.requireNonNullElse(s.getData(), Map.<String, String>of()).forEach((k, v) -> values.put(k,
                new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        return Optional.of(new Secrets(values));
    }

    private static String namespace(KubernetesClient client) {
        return Objects.requireNonNullElse(client.getNamespace(), DEFAULT_NAMESPACE);
    }
}
