package dev.strata.e2e.k3s;

import com.github.dockerjava.api.DockerClient;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A one-node Kubernetes (k3s in a privileged container) with Strata's image built from the
 * repository's Dockerfile and imported into its containerd, and the external-snapshotter's CRDs and
 * controller, which VolumeSnapshots need. Needs a Docker engine; {@link #dockerAvailable()} says.
 */
final class K3sCluster implements AutoCloseable {
    static final String K3S_IMAGE = "rancher/k3s:v1.32.4-k3s1";
    /** The image the manifests name (ManifestsTest checks that the chart and the Dockerfile agree). */
    static final String STRATA_IMAGE = manifestImage();
    static final String SNAPSHOTTER = "https://raw.githubusercontent.com/kubernetes-csi/external-snapshotter/v8.2.0/";
    static final List<String> SNAPSHOTTER_FILES = List.of(
            "client/config/crd/snapshot.storage.k8s.io_volumesnapshotclasses.yaml",
            "client/config/crd/snapshot.storage.k8s.io_volumesnapshotcontents.yaml",
            "client/config/crd/snapshot.storage.k8s.io_volumesnapshots.yaml",
            "deploy/kubernetes/snapshot-controller/rbac-snapshot-controller.yaml",
            "deploy/kubernetes/snapshot-controller/setup-snapshot-controller.yaml");

    private final K3sContainer k3s;
    private final KubernetesClient client;

    static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String manifestImage() {
        try {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("image: (ghcr\\.io/strata-csi/strata:\\S+)")
                    .matcher(Files.readString(repo().resolve("deploy/manifests/controller.yaml")));
            if (!m.find()) {
                throw new IllegalStateException("deploy/manifests/controller.yaml names no Strata image");
            }
            return m.group(1);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Path repo() {
        return Files.isDirectory(Path.of("..", "deploy", "manifests")) ? Path.of("..").toAbsolutePath().normalize()
                : Path.of("").toAbsolutePath();
    }

    K3sCluster() throws Exception {
        String built = new ImageFromDockerfile(STRATA_IMAGE, false)
                .withFileFromPath(".", repo())
                .withDockerfile(repo().resolve("Dockerfile"))
                .get(30, TimeUnit.MINUTES);
        k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE))
                .withPrivilegedMode(true)
                .withStartupTimeout(Duration.ofMinutes(5));
        k3s.start();
        importImage(built);
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build();
        for (String file : SNAPSHOTTER_FILES) {
            try (InputStream in = URI.create(SNAPSHOTTER + file).toURL().openStream()) {
                for (HasMetadata o : client.load(in).items()) {
                    client.resource(o).serverSideApply();
                }
            }
        }
    }

    /** Copies the image built by the host's Docker into k3s's containerd (k3s pulls nothing from the host). */
    private void importImage(String image) throws IOException, InterruptedException {
        DockerClient docker = DockerClientFactory.instance().client();
        byte[] tar;
        try (InputStream in = docker.saveImageCmd(image).exec()) {
            tar = in.readAllBytes();
        }
        k3s.copyFileToContainer(Transferable.of(tar), "/tmp/strata.tar");
        Container.ExecResult r = k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/strata.tar");
        if (r.getExitCode() != 0) {
            throw new IllegalStateException("ctr images import failed: " + r.getStderr());
        }
    }

    KubernetesClient client() {
        return client;
    }

    String kubeConfigYaml() {
        return k3s.getKubeConfigYaml();
    }

    /** Runs a command on the node (the k3s container), as a user would on the host. */
    Container.ExecResult onNode(String... command) throws IOException, InterruptedException {
        return k3s.execInContainer(command);
    }

    /** Whether the node's kernel has device-mapper: the thin StorageClasses need it. */
    boolean hasDeviceMapper() throws IOException, InterruptedException {
        return onNode("test", "-e", "/dev/mapper/control").getExitCode() == 0;
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
        k3s.stop();
    }
}
