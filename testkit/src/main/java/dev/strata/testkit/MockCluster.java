package dev.strata.testkit;

import dev.strata.api.v1alpha1.KubeClients;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;

/**
 * fabric8's Kubernetes mock server in CRUD mode, holding Strata's CRDs (from deploy/manifests/crds,
 * so the status subresource behaves as the CRDs declare): the API server of the cluster tests. Its
 * clients are fabric8's kubernetes-client, which the caller's class path brings (the controller and
 * node plugins do).
 */
public final class MockCluster implements AutoCloseable {
    private static final Path CRDS = repo().resolve("deploy/manifests/crds");

    /** The mock server logs each request at INFO through java.util.logging: noise, and time in a benchmark. */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger(
            "io.fabric8.mockwebserver.MockWebServer");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private final KubernetesMockServer server;
    private final KubernetesClient client;

    /** Starts the server and creates Strata's CRDs in it. */
    public MockCluster() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init();
        client = KubeClients.create(url(), "strata-test");
        try {
            for (String crd : List.of("stratavolumes", "stratasnapshots", "stratanodes")) {
                client.resource(Serialization.unmarshal(Files.readString(CRDS.resolve(crd + ".yaml")),
                        CustomResourceDefinition.class)).create();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The API server's URL, for plugins in this JVM or in child processes. */
    public String url() {
        return "http://" + server.getHostName() + ":" + server.getPort();
    }

    /** The repository: -Dstrata.repo, else the directory above or at the working directory that has deploy/. */
    public static Path repo() {
        String given = System.getProperty("strata.repo");
        if (given != null) {
            return Path.of(given);
        }
        return Files.isDirectory(Path.of("..", "deploy", "manifests")) ? Path.of("..") : Path.of(".");
    }

    /** A client for the test's own reads and writes. */
    public KubernetesClient client() {
        return client;
    }

    /** A new client for a component (KubeClients.CONTROLLER or NODE), as each plugin process has its own. */
    public KubernetesClient newClient(String component) {
        return KubeClients.create(url(), component);
    }

    /** The mock server, for the requests it recorded. */
    public KubernetesMockServer server() {
        return server;
    }

    /**
     * Stops the server. kubernetes-server-mock 7.9.0 can deadlock for 30 s when a client closes a watch
     * while the server still has an event to send on it: WatchEventsListener.onClosed waits, on the
     * event loop, for its send executor, whose send waits for the event loop (its 30 s write timeout
     * ends it). Shutdown then gives up after 10 s. By then the test has run and asserted; that
     * server's threads end by themselves, and each test has its own server on its own port.
     */
    @Override
    public void close() {
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            if (!"Unable to close MockWebServer".equals(e.getMessage())) {
                throw e;
            }
            MOCK_LOG.warning("the mock API server did not close within 10 s (a watch closed while it was"
                    + " sending on it: kubernetes-server-mock's WatchEventsListener); left to end by itself");
        }
    }
}
