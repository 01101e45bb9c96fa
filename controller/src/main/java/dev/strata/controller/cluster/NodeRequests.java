package dev.strata.controller.cluster;

import dev.strata.api.v1alpha1.NodeReport;
import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.common.CsiException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.grpc.Status;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.util.Optional;

/**
 * How a controller call asks a node for something: it writes a custom resource for that node (or
 * finds the one a concurrent or earlier call with the same name wrote), then waits on the informer
 * until the node settles it (Ready or Failed) or, for a deletion, removes it.
 */
final class NodeRequests {
    private final KubernetesClient client;
    private final Duration longestWait;

    NodeRequests(KubernetesClient client, Duration longestWait) {
        this.client = client;
        this.longestWait = longestWait;
    }

    /**
     * Waits for the node's answer on a volume or snapshot just asked for; a failed one is removed, so
     * that a retry starts afresh.
     */
    <T extends CustomResource<?, ? extends NodeReport>> T settle(Waiters<T> waiters, String name,
            String what) {
        // Present: the informer may not have seen a resource just made, so absence proves nothing here.
        T r = waiters.await(name, o -> o.isPresent() && settled(o.get()), longestWait, what).get();
        if (r.getMetadata().getDeletionTimestamp() != null) {
            throw new CsiException(Status.Code.ABORTED, what + ": it is being deleted; retry");
        }
        if (failed(r)) {
            deleteWithStorage(r);
            throw NodeErrors.toCsi(r.getStatus(), r);
        }
        return r;
    }

    /**
     * Throws ABORTED when {@code existing}, made by an earlier call with the same name and another
     * request, is on its way out: being deleted, or Failed (the call that saw it fail deletes it; it
     * is deleted again here, should that call not have got to it). The informer may still show it a
     * moment after a failed call removed it: a retry with other parameters right then was answered
     * ALREADY_EXISTS, where CSI's answer is ABORTED, an operation still pending for that name. A
     * retry with the same request goes on to {@link #settle}, which answers for a leaving resource.
     */
    <T extends CustomResource<?, ? extends NodeReport>> void refuseWhileLeaving(T existing, String what) {
        boolean failed = failed(existing);
        if (existing.getMetadata().getDeletionTimestamp() == null && !failed) {
            return;
        }
        if (failed) {
            deleteWithStorage(existing);
        }
        throw new CsiException(Status.Code.ABORTED, what + ": an earlier attempt under this name is being removed; "
                + "retry");
    }

    private static boolean settled(CustomResource<?, ? extends NodeReport> r) {
        return r.getMetadata().getDeletionTimestamp() != null || failed(r)
                || (r.getStatus() != null && Resources.READY.equals(r.getStatus().getPhase()));
    }

    private static boolean failed(CustomResource<?, ? extends NodeReport> r) {
        return r.getStatus() != null && Resources.FAILED.equals(r.getStatus().getPhase());
    }

    /** Marks a failed attempt's resource for its storage's removal and deletes it: a retry starts afresh. */
    private <T extends HasMetadata> void deleteWithStorage(T r) {
        @SuppressWarnings("unchecked") // a resource's class is its kind's: StrataVolume or StrataSnapshot
        Class<T> type = (Class<T>) r.getClass();
        ResourceWrites.deleteWithStorage(client, type, r.getMetadata().getName());
    }

    /** Creates the resource; when a concurrent call with the same name made it first, that one. */
    <T extends HasMetadata> T create(T wanted) {
        try {
            return client.resource(wanted).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            // Made meanwhile by a concurrent call with the same name: answer with that one.
            @SuppressWarnings("unchecked")
            T found = (T) client.resources(wanted.getClass()).withName(wanted.getMetadata().getName()).get();
            if (found == null) {
                throw new CsiException(Status.Code.ABORTED, wanted.getMetadata().getName()
                        + " is being replaced; retry");
            }
            return found;
        }
    }

    /** A new resource's metadata: its name, the node that holds it (a label) and Strata's finalizer. */
    static ObjectMeta meta(String name, String node) {
        return new ObjectMetaBuilder().withName(name).addToLabels(Resources.NODE_LABEL, node)
                .addToFinalizers(Resources.FINALIZER).build();
    }

    /**
     * Waits until the node has removed the storage and dropped its finalizer; when it has not in time
     * and says why (the volume is in use), answers with the node's reason.
     */
    <T extends CustomResource<?, ? extends NodeReport>> void awaitGone(Waiters<T> waiters, String name,
            String what) {
        try {
            waiters.await(name, Optional::isEmpty, longestWait, what);
        } catch (CsiException e) {
            T still = waiters.current(name).orElse(null);
            if (still != null && still.getStatus() != null && still.getStatus().getErrorCode() != null) {
                throw NodeErrors.toCsi(still.getStatus(), still);
            }
            throw e;
        }
    }
}
