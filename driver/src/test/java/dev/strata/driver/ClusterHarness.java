package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.common.grpc.Endpoint;
import dev.strata.controller.ControllerPlugin;
import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.NodeGrpc;
import dev.strata.node.main.NodePlugin;
import dev.strata.node.storage.StorageConfig;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MockCluster;
import dev.strata.testkit.MountInfo;
import dev.strata.testkit.StrataProcess;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A cluster without Kubernetes: the mock API server, the real controller plugin, and real node
 * plugins, each with its own node name, data directory and socket, all in this JVM (the crash tests
 * run a node plugin as a process with {@link #nodeProcess}). Each test gets a fresh one. The testkit's
 * {@link MockCluster}, {@link StrataProcess} and {@link CsiCalls.Connection} bound to
 * {@link ControllerPlugin} and {@link NodePlugin}.
 */
final class ClusterHarness implements BeforeEachCallback, AfterEachCallback {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long the controller waits for a node before it answers ABORTED. */
    static final Duration NODE_WAIT = Duration.ofSeconds(20);

    private Path root;
    private MockCluster api;
    private KubernetesClient controllerClient;
    private ControllerPlugin controller;
    private CsiCalls.Connection controllerConnection;
    private final Map<String, NodePlugin> nodes = new HashMap<>();
    private final Map<String, KubernetesClient> nodeClients = new HashMap<>();
    private final Map<String, CsiCalls.Connection> nodeConnections = new HashMap<>();
    private final List<Process> processes = new ArrayList<>();

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        root = Files.createTempDirectory(Path.of("/var/tmp"), "strata-cluster-");
        api = new MockCluster();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (Process p : processes) {
            // SIGTERM first, as a node is stopped: the plugin unmounts its sized volumes' filesystems.
            p.destroy();
            if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        for (String node : List.copyOf(nodes.keySet())) {
            stopNode(node);
        }
        stopController();
        api.close();
        List<Path> leaked = MountInfo.unmountAllUnder(root);
        CsiCalls.deleteTree(root);
        if (!leaked.isEmpty()) {
            fail("the test left mounts behind (now lazily unmounted): " + leaked);
        }
    }

    Path root() {
        return root;
    }

    KubernetesClient api() {
        return api.client();
    }

    MockCluster mock() {
        return api;
    }

    void startController() throws Exception {
        Path socket = root.resolve("controller.sock");
        controllerClient = api.newClient(KubeClients.CONTROLLER);
        controller = ControllerPlugin.start(Endpoint.parse("unix://" + socket), controllerClient, "dir", NODE_WAIT,
                Duration.ofSeconds(5));
        controllerConnection = new CsiCalls.Connection(socket);
    }

    /**
     * The controller plugin as its own process ({@code strata controller} with {@code options}),
     * logging to {@code <root>/controller-N.log}; {@link #controller()} calls it.
     */
    Process controllerProcess(List<String> options) throws IOException {
        Path socket = root.resolve("controller.sock");
        Path log = root.resolve("controller-" + processes.size() + ".log");
        List<String> args = new ArrayList<>(List.of("controller", "--kube-api", api.url(), "--endpoint",
                "unix://" + socket, "--node-wait", Long.toString(NODE_WAIT.toSeconds()), "--drain-timeout", "2"));
        args.addAll(options);
        Process p = StrataProcess.start(null, args, log);
        processes.add(p);
        StrataProcess.awaitReady("controller plugin", p, socket, Duration.ofSeconds(60), () -> StrataProcess.read(log));
        controllerConnection = new CsiCalls.Connection(socket);
        return p;
    }

    /** As a killed controller would: its calls end, its resources stay. */
    void stopController() {
        if (controllerConnection != null) {
            controllerConnection.close();
            controllerConnection = null;
        }
        if (controller != null) {
            controller.close();
            controllerClient.close();
            controller = null;
        }
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(controllerConnection.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    Path dataDir(String node) {
        return root.resolve(node).resolve("data");
    }

    Path socket(String node) {
        return root.resolve(node).resolve("csi.sock");
    }

    StorageConfig config(String node) throws IOException {
        Path host = Files.createDirectories(root.resolve(node).resolve("host"));
        return new StorageConfig(dataDir(node), node, "dir", 1L << 30, 1024, List.of(host));
    }

    void startNode(String node) throws Exception {
        KubernetesClient client = api.newClient(KubeClients.NODE);
        nodes.put(node, NodePlugin.start(Endpoint.parse("unix://" + socket(node)), config(node), client,
                Duration.ofSeconds(5), Duration.ofSeconds(60)));
        nodeClients.put(node, client);
        nodeConnections.put(node, new CsiCalls.Connection(socket(node)));
    }

    void stopNode(String node) {
        CsiCalls.Connection c = nodeConnections.remove(node);
        if (c != null) {
            c.close();
        }
        NodePlugin plugin = nodes.remove(node);
        if (plugin != null) {
            plugin.close();
            nodeClients.remove(node).close();
        }
    }

    /**
     * The IDs of the volumes a node's storage holds, from the records its plugin wrote (read as files,
     * not through a store: the plugin is running and owns them).
     */
    List<String> volumesOn(String node) throws IOException {
        try (var files = Files.list(volumeRecords(node))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".json") && !n.startsWith("."))
                    .map(n -> n.substring(0, n.length() - ".json".length())).sorted().toList();
        }
    }

    /** A volume's record on a node's disk, as JSON; empty when the node holds no such volume. */
    Optional<JsonNode> volumeOn(String node, String volumeId) throws IOException {
        return recordOn(volumeRecords(node), volumeId);
    }

    /** A snapshot's record on a node's disk, as JSON; empty when the node holds no such snapshot. */
    Optional<JsonNode> snapshotOn(String node, String snapshotId) throws IOException {
        return recordOn(dataDir(node).resolve("records").resolve("snapshots"), snapshotId);
    }

    private static Optional<JsonNode> recordOn(Path records, String id) throws IOException {
        Path file = records.resolve(id + ".json");
        return Files.exists(file) ? Optional.of(JSON.readTree(file.toFile())) : Optional.empty();
    }

    private Path volumeRecords(String node) {
        return dataDir(node).resolve("records").resolve("volumes");
    }

    NodeGrpc.NodeBlockingStub node(String node) {
        return NodeGrpc.newBlockingStub(nodeConnections.get(node).channel()).withDeadlineAfter(30,
                TimeUnit.SECONDS);
    }

    /**
     * A node plugin as its own process ({@code strata node}), halting at {@code crashPoint} (null: never),
     * logging to {@code <root>/<node>/plugin-N.log}.
     */
    Process nodeProcess(String node, String crashPoint) throws IOException {
        return nodeProcess(node, crashPoint, List.of());
    }

    /** As above, with more options for {@code strata node}. */
    Process nodeProcess(String node, String crashPoint, List<String> options) throws IOException {
        Files.createDirectories(root.resolve(node).resolve("host"));
        Path log = root.resolve(node).resolve("plugin-" + processes.size() + ".log");
        List<String> args = new ArrayList<>(List.of("node", "--kube-api", api.url(), "--endpoint",
                "unix://" + socket(node), "--data-dir", dataDir(node).toString(), "--node-id", node, "--resync", "2",
                "--drain-timeout", "2", "--hostpath-root", root.resolve(node).resolve("host").toString()));
        args.addAll(options);
        Process p = StrataProcess.start(crashPoint, args, log);
        processes.add(p);
        // Ready: its storage is open and its agent started.
        StrataProcess.awaitReady("node plugin " + node, p, socket(node), Duration.ofSeconds(60),
                () -> StrataProcess.read(log));
        return p;
    }
}
