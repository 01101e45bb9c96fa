package dev.strata.cli;

import dev.strata.csi.v1.ControllerServiceCapability;
import dev.strata.csi.v1.NodeServiceCapability;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code stratactl bench ...}: load generators that use nothing but the CSI protocol. */
@Command(name = "bench", description = "Benchmark a CSI driver", subcommands = BenchCommand.Lifecycle.class)
final class BenchCommand extends GroupCommand {
    /** Failed calls beyond this many are counted but not printed one by one. */
    private static final int MAX_PRINTED_FAILURES = 10;

    @Command(name = "lifecycle", description = {
            "Take N volumes through the calls a CO makes, C volumes at a time:",
            "CreateVolume, NodeStageVolume, NodePublishVolume and back to DeleteVolume",
            "(with --attach, ControllerPublish/UnpublishVolume too); calls the plugin has no",
            "capability for are skipped.",
            "With --warmup W, W volumes go through it first, unmeasured (a JVM driver",
            "runs interpreted code until its JIT has compiled it; a driver runs for days).",
            "Prints each RPC's latency, then a last line:",
            "  lifecycle ops_per_s=<x> p50_ms=<y> p99_ms=<z> errors=<n>"})
    static final class Lifecycle extends CsiCommand {
        @Option(names = "--volumes", paramLabel = "N", defaultValue = "10", description = "Volumes (default: ${DEFAULT-VALUE})")
        int volumes;

        @Option(names = "--concurrency", paramLabel = "C", defaultValue = "1",
                description = "Volumes in flight at a time (default: ${DEFAULT-VALUE})")
        int concurrency;

        @Option(names = "--warmup", paramLabel = "W", defaultValue = "0",
                description = "Volumes taken through first and not measured (default: ${DEFAULT-VALUE})")
        int warmup;

        @Option(names = "--size", paramLabel = "SIZE", defaultValue = "1Mi", converter = Sizes.Converter.class,
                description = "Each volume's capacity (default: ${DEFAULT-VALUE})")
        long size;

        @Option(names = "--param", paramLabel = "KEY=VALUE", description = "A StorageClass-style parameter")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(names = "--attach", description = {"Also call ControllerPublish/UnpublishVolume when the plugin offers",
                "them (Kubernetes does so only when the CSIDriver says attachRequired)"})
        boolean attachToo;

        @Option(names = "--workdir", paramLabel = "DIR",
                description = "Where staging and target directories go (default: a fresh directory under /tmp)")
        Path workdir;

        @Override
        protected int run(CsiClient client) throws Exception {
            if (volumes < 1 || concurrency < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--volumes and --concurrency must be at least 1");
            }
            if (warmup < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--warmup must be at least 0");
            }
            // Setup calls (capabilities, node ID) happen before the clock starts and are not counted.
            boolean attach = attachToo
                    && client.hasController(ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME);
            boolean stage = client.hasNode(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME);
            VolumeLifecycle.Plan plan = new VolumeLifecycle.Plan(size, params,
                    AccessModes.capability(Mode.SINGLE_NODE_WRITER, false), attach, stage,
                    attach ? client.nodeId() : "");
            Path runDir = workdir == null ? Files.createTempDirectory("stratactl-bench-")
                    : Files.createTempDirectory(Files.createDirectories(workdir), "stratactl-bench-");
            try {
                int warmupErrors = warmup == 0 ? 0 : reportWarmup(runAll(client, plan, runDir, warmup));
                return report(runAll(client, plan, runDir, volumes), warmupErrors);
            } finally {
                cleanUp(runDir);
            }
        }

        /** localErrors: failures that were not CSI calls (a staging mkdir), counted in errors too. */
        private record Outcome(LatencyRecorder recorder, long wallNanos, int localErrors) {}

        private Outcome runAll(CsiClient client, VolumeLifecycle.Plan plan, Path runDir, int count) throws Exception {
            Path staging = Files.createDirectories(runDir.resolve("staging"));
            // Target parents exist, as kubelet guarantees; the targets themselves are the driver's to create.
            Path targets = Files.createDirectories(runDir.resolve("targets"));
            String prefix = "bench-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()) + "-";
            LatencyRecorder recorder = new LatencyRecorder();
            AtomicInteger printed = new AtomicInteger();
            AtomicInteger localErrors = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(concurrency);
            long start = System.nanoTime();
            try {
                for (int i = 0; i < count; i++) {
                    String name = prefix + i;
                    VolumeLifecycle life = new VolumeLifecycle(client, recorder, f -> onFailure(f, printed, localErrors),
                            plan,
                            name, staging.resolve(name), targets.resolve(name));
                    pool.execute(life::run);
                }
            } finally {
                pool.shutdown();
                pool.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
            }
            return new Outcome(recorder, System.nanoTime() - start, localErrors.get());
        }

        private void onFailure(VolumeLifecycle.Failure f, AtomicInteger printed, AtomicInteger localErrors) {
            if (!(f.error() instanceof StatusRuntimeException)) {
                localErrors.incrementAndGet();
            }
            int n = printed.incrementAndGet();
            if (n <= MAX_PRINTED_FAILURES) {
                err().println("stratactl: " + f.volumeName() + ": " + f.method() + ": " + describe(f.error()));
            } else if (n == MAX_PRINTED_FAILURES + 1) {
                err().println("stratactl: (further failed calls are only counted)");
            }
        }

        /** The warm-up's one line; its failed calls were printed as they happened. Returns its error count. */
        private int reportWarmup(Outcome outcome) {
            LatencyRecorder.Stats total = outcome.recorder().total();
            int errors = total.errors() + outcome.localErrors();
            out().println("warmup volumes=" + warmup + " ops_per_s=" + fmt(total.calls() / seconds(outcome))
                    + " errors=" + errors);
            return errors;
        }

        /**
         * ops are the CSI calls that completed, failed ones included: each is one round trip the plugin
         * served. The warm-up's errors count in the last line's, so that errors=0 means none anywhere.
         */
        private int report(Outcome outcome, int warmupErrors) {
            LatencyRecorder recorder = outcome.recorder();
            for (String method : recorder.methods()) {
                LatencyRecorder.Stats s = recorder.stats(method);
                out().println("rpc=" + method + " calls=" + s.calls() + " p50_ms=" + fmt(s.p50Ms())
                        + " p99_ms=" + fmt(s.p99Ms()));
            }
            LatencyRecorder.Stats total = recorder.total();
            int errors = total.errors() + outcome.localErrors() + warmupErrors;
            out().println("lifecycle ops_per_s=" + fmt(total.calls() / seconds(outcome)) + " p50_ms=" + fmt(total.p50Ms())
                    + " p99_ms=" + fmt(total.p99Ms()) + " errors=" + errors);
            return errors == 0 ? OK : FAILED;
        }

        private static double seconds(Outcome outcome) {
            return Math.max(outcome.wallNanos(), 1) / 1e9;
        }

        private static String fmt(double value) {
            return String.format(Locale.ROOT, "%.2f", value);
        }

        /**
         * Removes the run directory with rmdir only, never recursively: a target or staging directory the
         * driver failed to unmount must not have the volume's contents deleted through it.
         */
        private void cleanUp(Path runDir) throws IOException {
            for (String sub : new String[] {"targets", "staging"}) {
                Path dir = runDir.resolve(sub);
                if (Files.isDirectory(dir)) {
                    try (var entries = Files.list(dir)) {
                        for (Path p : entries.toList()) {
                            removeEmptyDir(p);
                        }
                    }
                }
                removeEmptyDir(dir);
            }
            removeEmptyDir(runDir);
        }

        private void removeEmptyDir(Path dir) throws IOException {
            try {
                Files.deleteIfExists(dir);
            } catch (DirectoryNotEmptyException e) {
                err().println("stratactl: left " + dir + " in place: not empty (still mounted?)");
            }
        }
    }
}
