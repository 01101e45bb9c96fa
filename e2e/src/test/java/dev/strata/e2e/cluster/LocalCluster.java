package dev.strata.e2e.cluster;

import dev.strata.node.sys.DeviceMapper;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real Kubernetes (one node; two after add-node) of {@code bin/cluster} (upstream kube-apiserver, controller
 * manager, scheduler, kubelet, kube-proxy, containerd, runc and CNI built from e2e/cluster/go.mod),
 * driven through that script as a user would: up, install, kubectl, down.
 */
final class LocalCluster implements AutoCloseable {
    static final Path REPO = Files.isDirectory(Path.of("..", "deploy", "manifests"))
            ? Path.of("..").toAbsolutePath().normalize() : Path.of("").toAbsolutePath();
    static final Path SCRIPT = REPO.resolve("bin/cluster");
    static final Path LOG_DIR = REPO.resolve("e2e/target/cluster");
    /** bin/cluster's STRATA_CLUSTER_DIR: the cluster's state, which `down` removes. */
    static final Path DIR = Path.of(System.getenv().getOrDefault("STRATA_CLUSTER_DIR", "/var/lib/strata-cluster"));
    /** Beside the cluster's directory, which `down` removes. */
    static final Path LOCK = Path.of(DIR + ".lock");
    /** Longer than a whole run of RealClusterTest with Kubernetes built cold. */
    private static final Duration LOCK_PATIENCE = Duration.ofMinutes(90);

    private final KubernetesClient client;
    private final Path kubeconfig;
    private final ClusterLock lock;
    /** The host's IPv4 forwarding before the cluster came up, which `down` puts back. */
    private final String ipForwardBefore;

    /** Why the cluster cannot run here, or null. */
    static String unavailable() {
        if (System.getenv("STRATA_SKIP_CLUSTER") != null) {
            return "skipped: STRATA_SKIP_CLUSTER is set";
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "skipped: the real cluster needs root (kubelet and containerd mount and make cgroups)";
        }
        for (String tool : List.of("go", "runc", "iptables", "debootstrap", "openssl", "curl")) {
            if (!onPath(tool)) {
                return "skipped: " + tool + " is missing (.ci/install-deps installs what the cluster needs)";
            }
        }
        return null;
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes the cluster for this run (waiting for another run on this host to finish with it), then
     * starts a fresh one (building what the cache lacks) and imports Strata's image from this tree.
     * A cluster left running, by a killed run or by hand, is taken down first: its objects are not
     * this run's.
     */
    static LocalCluster up() throws IOException, InterruptedException {
        ClusterLock lock = ClusterLock.take(LOCK, LOCK_PATIENCE);
        try {
            script(300, "down");
            String ipForward = ipForward();
            script(TimeUnit.MINUTES.toSeconds(75), "up");
            script(TimeUnit.MINUTES.toSeconds(10), "images");
            return new LocalCluster(Path.of(script(10, "kubeconfig").strip()), lock, ipForward);
        } catch (IOException | InterruptedException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private LocalCluster(Path kubeconfig, ClusterLock lock, String ipForwardBefore) throws IOException {
        this.kubeconfig = kubeconfig;
        this.lock = lock;
        this.ipForwardBefore = ipForwardBefore;
        this.client = new KubernetesClientBuilder()
                .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build();
    }

    KubernetesClient client() {
        return client;
    }

    Path kubeconfig() {
        return kubeconfig;
    }

    /** Runs {@code bin/cluster ARGS…}; its output goes to target/cluster/ARG0.log and is returned. */
    static String script(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(SCRIPT.toString()));
        command.addAll(List.of(args));
        return run(timeoutSeconds, LOG_DIR.resolve(args[0] + ".log"), command);
    }

    /** Runs a command on the node (this host), as a user would; fails unless it exits 0. */
    static String onNode(String... command) throws IOException, InterruptedException {
        return run(120, null, List.of(command));
    }

    private static String run(long timeoutSeconds, Path log, List<String> command)
            throws IOException, InterruptedException {
        Files.createDirectories(LOG_DIR);
        Path out = log != null ? log : Files.createTempFile(LOG_DIR, "cmd", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
        long before = Files.size(out);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException(String.join(" ", command) + ": no end after " + timeoutSeconds
                    + " s; output in " + out);
        }
        byte[] all = Files.readAllBytes(out);
        String text = new String(all, (int) before, all.length - (int) before, StandardCharsets.UTF_8);
        if (log == null) {
            Files.delete(out);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue() + ":\n"
                    + tail(text));
        }
        return text;
    }

    private static String tail(String text) {
        return text.length() <= 4000 ? text : "…" + text.substring(text.length() - 4000);
    }

    /** The node's kernel has device-mapper (not just its control node): the thin StorageClasses need it. */
    static boolean hasDeviceMapper() {
        return DeviceMapper.available();
    }

    /** Whether this host's root may use CAP_SYS_RESOURCE (some sandboxes withhold it: then no mounted ext4 grows). */
    static boolean hasCapSysResource() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapBnd:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) >> 24 & 1) == 1;
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try (lock) {
            client.close();
            script(300, "down");
            if (!ipForward().equals(ipForwardBefore)) {
                throw new IllegalStateException("bin/cluster down left net.ipv4.ip_forward at " + ipForward()
                        + ", where it was " + ipForwardBefore + " before up");
            }
        }
    }

    private static String ipForward() throws IOException {
        return Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip();
    }
}
