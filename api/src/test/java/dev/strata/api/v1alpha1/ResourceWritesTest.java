package dev.strata.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real API server answers 409 Conflict to a write made from a stale read (another writer came
 * between); the CRUD mock server never does. Here the mock server in expectations mode answers what
 * each test needs, and the test counts the requests the client made.
 */
class ResourceWritesTest {
    private static final String PATH = "/apis/strata.csi.dev/v1alpha1/stratavolumes/vol-x";
    private static final Status CONFLICT = new StatusBuilder().withCode(409).withReason("Conflict")
            .withMessage("the object has been modified; please apply your changes to the latest version").build();

    private KubernetesMockServer server;
    private KubernetesClient client;

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(false);
        server.init();
        client = KubeClients.create("http://" + server.getHostName() + ":" + server.getPort(), "strata-test");
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    private static StrataVolume volume(String resourceVersion, String phase) {
        StrataVolume v = new StrataVolume();
        v.setMetadata(new ObjectMetaBuilder().withName("vol-x").withResourceVersion(resourceVersion).build());
        v.setSpec(new StrataVolumeSpec());
        v.setStatus(new StrataVolumeStatus());
        v.getStatus().setPhase(phase);
        return v;
    }

    private List<String> requests() throws InterruptedException {
        List<String> seen = new ArrayList<>();
        for (RecordedRequest r; (r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null; ) {
            seen.add(r.getMethod() + " " + r.getPath());
        }
        return seen;
    }

    @Test
    void aConflictIsRetriedFromAFreshRead() throws Exception {
        server.expect().get().withPath(PATH).andReturn(200, volume("1", Resources.PENDING)).always();
        server.expect().put().withPath(PATH + "/status").andReturn(409, CONFLICT).times(2);
        server.expect().put().withPath(PATH + "/status").andReturn(200, volume("2", Resources.READY)).once();

        Optional<StrataVolume> written = ResourceWrites.status(client, StrataVolume.class, "vol-x", r -> {
            r.getStatus().setPhase(Resources.READY);
            return r;
        });
        assertEquals(Resources.READY, written.orElseThrow().getStatus().getPhase());
        assertEquals(List.of("GET " + PATH, "PUT " + PATH + "/status", "GET " + PATH, "PUT " + PATH + "/status",
                "GET " + PATH, "PUT " + PATH + "/status"), requests());
    }

    @Test
    void conflictsWithoutEndFailAfterFiveAttempts() throws Exception {
        server.expect().get().withPath(PATH).andReturn(200, volume("1", Resources.PENDING)).always();
        server.expect().put().withPath(PATH + "/status").andReturn(409, CONFLICT).always();

        KubernetesClientException e = assertThrows(KubernetesClientException.class,
                () -> ResourceWrites.status(client, StrataVolume.class, "vol-x", r -> {
                    r.getStatus().setPhase(Resources.READY);
                    return r;
                }));
        assertEquals(409, e.getCode());
        assertEquals(5, requests().stream().filter(r -> r.startsWith("PUT ")).count());
    }

    @Test
    void aChangeThatChangesNothingWritesNothing() throws Exception {
        server.expect().get().withPath(PATH).andReturn(200, volume("1", Resources.READY)).always();

        Optional<StrataVolume> same = ResourceWrites.status(client, StrataVolume.class, "vol-x", r -> {
            r.getStatus().setPhase(Resources.READY);
            return r;
        });
        assertEquals("1", same.orElseThrow().getMetadata().getResourceVersion());
        assertEquals(List.of("GET " + PATH), requests());
    }

    @Test
    void aResourceGoneBeforeOrDuringTheWriteIsEmpty() throws Exception {
        server.expect().get().withPath(PATH).andReturn(404, new StatusBuilder().withCode(404).build()).once();
        assertTrue(ResourceWrites.metadata(client, StrataVolume.class, "vol-x", r -> r).isEmpty());

        server.expect().get().withPath(PATH).andReturn(200, volume("1", Resources.PENDING)).once();
        server.expect().put().withPath(PATH + "/status").andReturn(404, new StatusBuilder().withCode(404).build())
                .once();
        assertTrue(ResourceWrites.status(client, StrataVolume.class, "vol-x", r -> {
            r.getStatus().setPhase(Resources.READY);
            return r;
        }).isEmpty());
    }
}
