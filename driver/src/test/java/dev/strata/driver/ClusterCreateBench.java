package dev.strata.driver;

import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.common.grpc.Endpoint;
import dev.strata.controller.ControllerPlugin;
import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.node.main.NodePlugin;
import dev.strata.node.storage.StorageConfig;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import dev.strata.testkit.MockCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * CreateVolume latency through the custom-resource round trip (controller plugin, mock API server,
 * node plugin) against standalone mode, in one JVM and one run, then 100 concurrent CreateVolume calls
 * through the cluster: {@code java -cp ... dev.strata.driver.ClusterCreateBench DIR [VOLUMES]}
 * (docs/benchmarks.md has the command and the figures). Not a test: nothing here asserts a time.
 */
public final class ClusterCreateBench {
    private ClusterCreateBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/var/tmp/strata-bench").toAbsolutePath();
        int volumes = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        Files.createDirectories(dir);
        StorageConfig standaloneConfig = new StorageConfig(dir.resolve("standalone"), "node-1", "dir", 1L << 30, 1024);
        try (Standalone standalone = Standalone.start(Endpoint.parse("unix://" + dir.resolve("standalone.sock")),
                        standaloneConfig, Duration.ofSeconds(5));
                MockCluster api = new MockCluster();
                NodePlugin node = NodePlugin.start(Endpoint.parse("unix://" + dir.resolve("node.sock")),
                        new StorageConfig(dir.resolve("node"), "node-1", "dir", 1L << 30, 1024), api.newClient(KubeClients.NODE),
                        Duration.ofSeconds(5), Duration.ofSeconds(60));
                ControllerPlugin controller = ControllerPlugin.start(Endpoint.parse("unix://"
                        + dir.resolve("controller.sock")), api.newClient(KubeClients.CONTROLLER), "dir", Duration.ofSeconds(50),
                        Duration.ofSeconds(5));
                CsiCalls.Connection toStandalone = new CsiCalls.Connection(dir.resolve("standalone.sock"));
                CsiCalls.Connection toController = new CsiCalls.Connection(dir.resolve("controller.sock"))) {
            ControllerGrpc.ControllerBlockingStub local = ControllerGrpc.newBlockingStub(toStandalone.channel());
            ControllerGrpc.ControllerBlockingStub cluster = ControllerGrpc.newBlockingStub(toController.channel());
            System.out.println("| round | mode | volumes | p50 ms | p99 ms | mean ms |");
            System.out.println("|---|---|---|---|---|---|");
            for (int round = 1; round <= 3; round++) {
                // Alternating, so that neither mode has the warmer JIT throughout.
                report(round, "standalone", createAll(local, "s" + round, volumes));
                report(round, "cluster (mock API server)", createAll(cluster, "c" + round, volumes));
            }
            concurrent(cluster, api);
        }
    }

    /** Creates then deletes {@code count} volumes one after another; returns each create's latency. */
    private static double[] createAll(ControllerGrpc.ControllerBlockingStub stub, String prefix, int count) {
        double[] ms = new double[count];
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            ids.add(stub.withDeadlineAfter(60, TimeUnit.SECONDS).createVolume(Csi.createVolume(prefix + "-" + i)
                    .build()).getVolume().getVolumeId());
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        for (String id : ids) {
            stub.withDeadlineAfter(60, TimeUnit.SECONDS).deleteVolume(DeleteVolumeRequest.newBuilder()
                    .setVolumeId(id).build());
        }
        return ms;
    }

    private static void report(int round, String mode, double[] ms) {
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        System.out.printf("| %d | %s | %d | %.2f | %.2f | %.2f |%n", round, mode, ms.length, percentile(sorted, 50),
                percentile(sorted, 99), Arrays.stream(ms).average().orElse(0));
    }

    private static double percentile(double[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** 100 calls at once with distinct names, then 100 at once with one name: no duplicates either way. */
    private static void concurrent(ControllerGrpc.ControllerBlockingStub stub, MockCluster api) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(100);
        try {
            for (boolean sameName : new boolean[] {false, true}) {
                List<Future<String>> calls = new ArrayList<>();
                long start = System.nanoTime();
                for (int i = 0; i < 100; i++) {
                    String name = sameName ? "same" : "burst-" + i;
                    calls.add(pool.submit(() -> stub.withDeadlineAfter(120, TimeUnit.SECONDS)
                            .createVolume(Csi.createVolume(name).build()).getVolume().getVolumeId()));
                }
                Set<String> ids = new HashSet<>();
                for (Future<String> call : calls) {
                    ids.add(call.get());
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                int resources = api.client().resources(StrataVolume.class).list().getItems().size();
                System.out.printf("%n100 concurrent CreateVolume, %s: all answered in %.2f s; %d distinct volume IDs, "
                        + "%d StrataVolumes%n", sameName ? "one name" : "100 names", seconds, ids.size(), resources);
                for (String id : ids) {
                    stub.deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
                }
            }
        } finally {
            pool.shutdown();
        }
    }
}
