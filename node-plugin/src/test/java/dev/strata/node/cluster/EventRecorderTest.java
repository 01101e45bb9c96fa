package dev.strata.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.api.v1alpha1.PoolStatus;
import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.api.v1alpha1.StrataVolumeSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EventRecorderTest {
    private static final Duration QUIET = Duration.ofMinutes(10);

    private KubernetesMockServer server;
    private KubernetesClient client;
    private final MutableClock clock = new MutableClock();
    private EventRecorder events;

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init();
        client = KubeClients.create("http://" + server.getHostName() + ":" + server.getPort(), KubeClients.NODE);
        events = new EventRecorder(client, "node-a", QUIET, clock);
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    @Test
    void aVolumeEventIsPostedOnTheVolumeAndOnItsClaim() {
        PersistentVolumeClaim claim = client.persistentVolumeClaims().inNamespace("apps").resource(
                new PersistentVolumeClaimBuilder().withNewMetadata().withName("data").withUid("uid-of-data")
                        .endMetadata().build()).create();
        events.volume(volume("pvc-1", "apps", "data"), EventRecorder.Type.WARNING, "VolumeAbnormal", "CheckHealth",
                "host path /srv/x is missing");

        Event onVolume = only("default");
        assertEquals("StrataVolume", onVolume.getRegarding().getKind());
        assertEquals("strata.csi.dev/v1alpha1", onVolume.getRegarding().getApiVersion());
        assertEquals("pvc-1", onVolume.getRegarding().getName());
        assertNull(onVolume.getRegarding().getNamespace(), "a cluster-scoped object's reference has no namespace");
        assertEquals("Warning", onVolume.getType());
        assertEquals("VolumeAbnormal", onVolume.getReason());
        assertEquals("CheckHealth", onVolume.getAction());
        assertEquals("host path /srv/x is missing", onVolume.getNote());
        assertEquals(EventRecorder.CONTROLLER, onVolume.getReportingController());
        assertEquals(EventRecorder.CONTROLLER + "-node-a", onVolume.getReportingInstance());
        assertTrue(onVolume.getEventTime().getTime().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z"),
                onVolume.getEventTime().getTime());

        Event onClaim = only("apps");
        assertEquals("PersistentVolumeClaim", onClaim.getRegarding().getKind());
        assertEquals(claim.getMetadata().getUid(), onClaim.getRegarding().getUid(), "kubectl describe matches the UID");
        assertEquals("apps", onClaim.getRegarding().getNamespace());
        assertEquals("pvc-1", onClaim.getRelated().getName(), "the claim's event names the StrataVolume");
        assertEquals("VolumeAbnormal", onClaim.getReason());
    }

    @Test
    void aClaimThatIsGoneOrUnnamedGetsNothing() {
        events.volume(volume("pvc-2", "apps", "gone"), EventRecorder.Type.WARNING, "VolumeAbnormal", "CheckHealth",
                "x");
        events.volume(volume("pvc-3", null, null), EventRecorder.Type.WARNING, "VolumeAbnormal", "CheckHealth", "y");
        assertEquals(2, list("default").size());
        assertEquals(List.of(), list("apps"));
    }

    @Test
    void oneReasonOnOneObjectIsPostedOncePerQuietPeriod() {
        StrataVolume v = volume("pvc-4", null, null);
        events.volume(v, EventRecorder.Type.WARNING, "VolumeResizeFailed", "ExpandVolume", "in use");
        clock.advance(Duration.ofMinutes(1));
        events.volume(v, EventRecorder.Type.WARNING, "VolumeResizeFailed", "ExpandVolume", "in use");
        assertEquals(1, list("default").size(), "a retry a minute later is not posted again");
        events.volume(v, EventRecorder.Type.WARNING, "VolumeAbnormal", "CheckHealth", "missing");
        events.volume(volume("pvc-5", null, null), EventRecorder.Type.WARNING, "VolumeResizeFailed", "ExpandVolume",
                "in use");
        assertEquals(3, list("default").size(), "another reason, another volume: posted");
        clock.advance(QUIET);
        events.volume(v, EventRecorder.Type.WARNING, "VolumeResizeFailed", "ExpandVolume", "still in use");
        assertEquals(4, list("default").size(), "posted again once the quiet period has passed");
    }

    @Test
    void aLongNoteIsCutToTheBytesTheApiTakes() {
        events.volume(volume("pvc-6", null, null), EventRecorder.Type.WARNING, "VolumeAbnormal", "CheckHealth",
                "x".repeat(5000));
        assertEquals("x".repeat(1021) + "...", only("default").getNote());
        String accents = "é".repeat(600); // 1,200 bytes
        String cut = EventRecorder.fitted(accents);
        assertEquals("é".repeat(510) + "...", cut, "cut between characters, within 1,024 bytes");
        assertEquals("\u20ac".repeat(340) + "...", EventRecorder.fitted("\u20ac".repeat(400)), "3-byte characters");
        assertEquals("\ud83d\ude00".repeat(255) + "...", EventRecorder.fitted("\ud83d\ude00".repeat(300)),
                "4-byte characters (a surrogate pair each)");
        assertEquals("short", EventRecorder.fitted("short"));
        assertEquals(accents.substring(0, 512), EventRecorder.fitted(accents.substring(0, 512)), "1,024 bytes fit");
    }

    @Test
    void aPoolIsReportedWhenItsLevelChanges() {
        StrataNode node = new StrataNode();
        node.setMetadata(new ObjectMetaBuilder().withName("node-a").withUid("uid-node").build());
        PoolEvents pools = new PoolEvents(events);
        pools.observe(node, List.of(pool(50, "ok")));
        assertEquals(List.of(), list("default"), "room: nothing to say");
        pools.observe(node, List.of(pool(85, "ok")));
        clock.advance(Duration.ofSeconds(1));
        pools.observe(node, List.of(pool(86, "ok")));
        assertEquals(List.of("PoolNearlyFull"), reasons(), "said once, not at every report");
        pools.observe(node, List.of(pool(100, "out of data space")));
        pools.observe(node, List.of(pool(40, "ok")));
        assertEquals(List.of("PoolNearlyFull", "PoolProblem", "PoolHasRoom"), reasons());
        Event problem = list("default").stream().filter(e -> e.getReason().equals("PoolProblem")).findFirst()
                .orElseThrow();
        assertEquals("StrataNode", problem.getRegarding().getKind());
        assertEquals("uid-node", problem.getRegarding().getUid());
        assertEquals("pool strata-thin (thin): data 100%, metadata 10%: out of data space", problem.getNote());
        assertEquals("Normal", list("default").stream().filter(e -> e.getReason().equals("PoolHasRoom"))
                .findFirst().orElseThrow().getType());
    }

    private static PoolStatus pool(int usedPercent, String health) {
        PoolStatus p = new PoolStatus();
        p.setName("strata-thin");
        p.setEngine("thin");
        p.setDataBytes(1000);
        p.setUsedDataBytes(usedPercent * 10L);
        p.setMetadataBytes(100);
        p.setUsedMetadataBytes(10);
        p.setHealth(health);
        return p;
    }

    private static StrataVolume volume(String name, String claimNamespace, String claim) {
        StrataVolume v = new StrataVolume();
        v.setMetadata(new ObjectMetaBuilder().withName(name).withUid("uid-" + name).build());
        StrataVolumeSpec spec = new StrataVolumeSpec();
        spec.setNode("node-a");
        if (claim != null) {
            spec.setParameters(Map.of(EventRecorder.PVC_NAMESPACE, claimNamespace, EventRecorder.PVC_NAME, claim));
        }
        v.setSpec(spec);
        return v;
    }

    private List<Event> list(String namespace) {
        return client.events().v1().events().inNamespace(namespace).list().getItems().stream()
                .sorted(Comparator.comparing(e -> e.getEventTime().getTime())).toList();
    }

    private List<String> reasons() {
        return list("default").stream().map(Event::getReason).toList();
    }

    private Event only(String namespace) {
        List<Event> found = list(namespace);
        assertEquals(1, found.size(), namespace + ": " + found);
        return found.get(0);
    }

    /** A clock the test moves by hand; every event gets a distinct, later time. */
    private static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-12-03T10:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            now = now.plusNanos(1000);
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
