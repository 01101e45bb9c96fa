package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataVolume;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events for what a user must act on, in the style of Kubernetes' own (a CamelCase reason,
 * a note that says what happened): on the StrataVolume and on the claim it was made for (found by the
 * {@code csi.storage.k8s.io/pvc/*} parameters the provisioner passes), or on the StrataNode for its
 * pools. Kubernetes keeps events of cluster-scoped objects in {@code default}, as it does for Nodes.
 *
 * <p>Rate-limited: one reason on one object at most once per {@code quiet}, since a reconcile that
 * keeps failing would post one every retry. Best effort: an event that cannot be written is logged,
 * never a reason for the work to fail.
 */
final class EventRecorder {
    private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
    static final String CONTROLLER = "strata.csi.dev/node";
    static final String PVC_NAME = "csi.storage.k8s.io/pvc/name";
    static final String PVC_NAMESPACE = "csi.storage.k8s.io/pvc/namespace";
    private static final String CLUSTER_SCOPED_NAMESPACE = "default";
    /** events.k8s.io/v1 refuses a note longer than this many bytes (of UTF-8). */
    private static final int MAX_NOTE_BYTES = 1024;
    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX")
            .withZone(java.time.ZoneOffset.UTC);

    /** Kubernetes' two event types. */
    enum Type {
        NORMAL("Normal"), WARNING("Warning");

        final String value;

        Type(String value) {
            this.value = value;
        }
    }

    private final KubernetesClient client;
    private final String nodeId;
    private final Duration quiet;
    private final Clock clock;
    /** When each (object, reason) was last posted; entries older than {@code quiet} are dropped as new ones come. */
    private final Map<String, Instant> lastPosted = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();

    EventRecorder(KubernetesClient client, String nodeId, Duration quiet, Clock clock) {
        this.client = client;
        this.nodeId = nodeId;
        this.quiet = quiet;
        this.clock = clock;
    }

    /** On the volume, and on its claim when the volume was made for one that still exists. */
    void volume(StrataVolume volume, Type type, String reason, String action, String note) {
        if (!due(volume, reason)) {
            return;
        }
        ObjectReference regarding = reference(volume);
        post(CLUSTER_SCOPED_NAMESPACE, regarding, null, type, reason, action, note);
        Map<String, String> parameters = volume.getSpec().getParameters();
        String claim = parameters == null ? null : parameters.get(PVC_NAME);
        String namespace = parameters == null ? null : parameters.get(PVC_NAMESPACE);
        if (claim == null || namespace == null) {
            return;
        }
        try {
            PersistentVolumeClaim pvc = client.persistentVolumeClaims().inNamespace(namespace).withName(claim).get();
            if (pvc != null) {
                post(namespace, reference(pvc), regarding, type, reason, action, note);
            }
        } catch (KubernetesClientException e) {
            LOG.warn("event {} for claim {}/{}: cannot read the claim: {}", reason, namespace, claim, e.getMessage());
        }
    }

    /** On this node's StrataNode (its pools). */
    void node(StrataNode node, Type type, String reason, String action, String note) {
        if (due(node, reason)) {
            post(CLUSTER_SCOPED_NAMESPACE, reference(node), null, type, reason, action, note);
        }
    }

    private boolean due(HasMetadata object, String reason) {
        Instant now = clock.instant();
        lastPosted.values().removeIf(t -> !t.plus(quiet).isAfter(now));
        return lastPosted.putIfAbsent(object.getMetadata().getName() + "/" + reason, now) == null;
    }

    private void post(String namespace, ObjectReference regarding, ObjectReference related, Type type, String reason,
            String action, String note) {
        Instant now = clock.instant();
        // Unique, as Kubernetes' own recorders name theirs: the object's name and a time in hex.
        String name = regarding.getName() + "." + Long.toHexString(now.toEpochMilli() * 1000
                + sequence.incrementAndGet() % 1000);
        Event event = new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                .withRegarding(regarding).withRelated(related)
                .withType(type.value).withReason(reason).withAction(action)
                .withNote(fitted(note))
                .withEventTime(new MicroTime(MICRO_TIME.format(now.truncatedTo(ChronoUnit.MICROS))))
                .withReportingController(CONTROLLER).withReportingInstance(CONTROLLER + "-" + nodeId)
                .build();
        try {
            client.events().v1().events().inNamespace(namespace).resource(event).create();
            LOG.info("event {} {} on {} {}: {}", type, reason, regarding.getKind(), regarding.getName(), note);
        } catch (KubernetesClientException e) {
            LOG.warn("event {} on {} {}: cannot be written: {}", reason, regarding.getKind(), regarding.getName(),
                    e.getMessage());
        }
    }

    /** The note cut to what the API takes, by bytes, never inside a character, and marked as cut. */
    static String fitted(String note) {
        if (note.getBytes(StandardCharsets.UTF_8).length <= MAX_NOTE_BYTES) {
            return note;
        }
        StringBuilder out = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < note.length(); ) {
            int c = note.codePointAt(i);
            int size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; // its UTF-8 width
            if (bytes + size > MAX_NOTE_BYTES - 3) {
                break;
            }
            out.appendCodePoint(c);
            bytes += size;
            i += Character.charCount(c);
        }
        return out.append("...").toString();
    }

    /** A cluster-scoped object's reference has no namespace, as kubectl describe looks it up. */
    private static ObjectReference reference(HasMetadata object) {
        return new ObjectReferenceBuilder().withApiVersion(object.getApiVersion()).withKind(object.getKind())
                .withName(object.getMetadata().getName()).withNamespace(object.getMetadata().getNamespace())
                .withUid(object.getMetadata().getUid()).build();
    }
}
