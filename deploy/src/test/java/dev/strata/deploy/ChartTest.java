package dev.strata.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** charts/strata: lints, renders the manifests' objects for its defaults, and its values work. */
class ChartTest {
    private static final String NAMESPACE = "strata-system";

    private static List<HasMetadata> render(Map<String, Object> values) {
        var template = new Helm(Manifests.CHART).template().withName("strata").withNamespace(NAMESPACE)
                .withKubeVersion("1.32.0");
        values.forEach(template::set);
        return Manifests.parse(template.call()).stream()
                .filter(o -> !(o instanceof CustomResourceDefinition)).toList();
    }

    @Test
    void theChartLintsStrictly() {
        LintResult lint = new Helm(Manifests.CHART).lint().strict().call();
        assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
    }

    @Test
    void itsDefaultRenderIsTheManifests() {
        Map<String, JsonNode> chart = Manifests.byKey(render(Map.of()));
        Map<String, JsonNode> manifests = new TreeMap<>(Manifests.byKey(Manifests.kustomized()));
        // Helm installs into a namespace it is given; the manifests make theirs. CRDs are compared below.
        manifests.keySet().removeIf(k -> k.startsWith("Namespace/") || k.startsWith("CustomResourceDefinition/"));
        assertEquals(manifests.keySet(), chart.keySet());
        manifests.forEach((key, object) -> assertEquals(object, chart.get(key), key));
    }

    @Test
    void itsCrdsAreTheManifestsCrds() throws IOException {
        assertEquals(yamlFiles(Manifests.MANIFESTS.resolve("crds")), yamlFiles(Manifests.CHART.resolve("crds")));
    }

    private static Map<String, String> yamlFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Map.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".yaml") && !f.endsWith("kustomization.yaml"))
                    .collect(Collectors.toMap(f -> f.getFileName().toString(), Manifests::readString, (a, b) -> a,
                            TreeMap::new));
        }
    }

    @Test
    void valuesChooseStorageClassesHostRootsImagesAndPlacement() {
        List<HasMetadata> objects = render(Map.of("storageClasses.thin", "false",
                "storageClasses.shared", "false", "hostPathRoots[0]", "/srv/a", "hostPathRoots[1]", "/srv/b",
                "image.tag", "9.9.9", "node.nodeSelector.disk", "ssd", "logLevel", "DEBUG"));
        Set<String> classes = objects.stream().filter(StorageClass.class::isInstance)
                .map(o -> o.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of("strata-thin-xfs", "strata-thin-block", "strata-overlay", "strata-hostpath"), classes);
        StorageClass hostpath = objects.stream().filter(StorageClass.class::isInstance).map(StorageClass.class::cast)
                .filter(c -> c.getMetadata().getName().equals("strata-hostpath")).findFirst().orElseThrow();
        assertEquals("/srv/a", hostpath.getParameters().get("root"));
        DaemonSet node = objects.stream().filter(DaemonSet.class::isInstance).map(DaemonSet.class::cast)
                .findFirst().orElseThrow();
        var strata = node.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertTrue(strata.getArgs().containsAll(List.of("--hostpath-root=/srv/a", "--hostpath-root=/srv/b")));
        assertEquals("ghcr.io/strata-csi/strata:9.9.9", strata.getImage());
        assertEquals("DEBUG", strata.getEnv().stream().filter(e -> e.getName().equals("STRATA_LOG_LEVEL"))
                .findFirst().orElseThrow().getValue());
        assertEquals(Map.of("disk", "ssd"), node.getSpec().getTemplate().getSpec().getNodeSelector());
        var devices = render(Map.of("thinPool.dataDevice", "/dev/sdb", "thinPool.metadataDevice", "/dev/sdc"))
                .stream().filter(DaemonSet.class::isInstance).map(DaemonSet.class::cast).findFirst().orElseThrow()
                .getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
        assertTrue(devices.containsAll(List.of("--thin-data=/dev/sdb", "--thin-metadata=/dev/sdc")), devices.toString());
        assertFalse(devices.stream().anyMatch(a -> a.startsWith("--thin-pool-dir")), "devices replace the files");
        assertEquals(2, node.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().startsWith("hostpath-root-")).count());
    }

    /**
     * Remote snapshots: by default a file target at the node's /var/lib/strata-backups (with its
     * VolumeSnapshotClass) and S3 credentials from an optional Secret; a key Secret turns encryption
     * on; an empty hostPath leaves the directory and its class out.
     */
    @Test
    void backupValuesMountTheTargetTheCredentialsAndTheKey() {
        var strata = nodeContainer(render(Map.of()));
        assertTrue(strata.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/var/lib/strata-backups")));
        assertEquals("strata-backup-credentials", strata.getEnvFrom().get(0).getSecretRef().getName());
        assertTrue(strata.getEnvFrom().get(0).getSecretRef().getOptional(), "the plugin starts without it");
        assertFalse(strata.getArgs().stream().anyMatch(a -> a.startsWith("--backup-key-file")), "no key by default");

        List<HasMetadata> keyed = render(Map.of("backups.keySecret", "team-key", "backups.hostPath", "/mnt/nfs"));
        var withKey = nodeContainer(keyed);
        assertTrue(withKey.getArgs().contains("--backup-key-file=/etc/strata/backup-key/key"));
        var volumes = keyed.stream().filter(DaemonSet.class::isInstance).map(DaemonSet.class::cast).findFirst()
                .orElseThrow().getSpec().getTemplate().getSpec().getVolumes();
        assertTrue(volumes.stream().anyMatch(v -> v.getSecret() != null && "team-key".equals(v.getSecret()
                .getSecretName())), "the key Secret is a volume");
        assertTrue(volumes.stream().anyMatch(v -> v.getHostPath() != null && "/mnt/nfs".equals(v.getHostPath()
                .getPath())), "the backups' host directory");

        List<HasMetadata> none = render(Map.of("backups.hostPath", ""));
        assertFalse(nodeContainer(none).getVolumeMounts().stream().anyMatch(m -> m.getName().equals("backups")));
        assertFalse(none.stream().anyMatch(o -> o.getMetadata().getName().equals("strata-backup")),
                "no class for a target that is not there");
    }

    private static Container nodeContainer(List<HasMetadata> objects) {
        return objects.stream().filter(DaemonSet.class::isInstance).map(DaemonSet.class::cast).findFirst()
                .orElseThrow().getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    @Test
    void theImageTagIsTheProjectVersionEverywhere() throws IOException {
        Matcher version = Pattern.compile("<version>([0-9.]+)(-SNAPSHOT)?</version>")
                .matcher(Files.readString(Manifests.REPO.resolve("pom.xml")));
        assertTrue(version.find());
        String expected = version.group(1);
        Set<String> strataImages = Manifests.kustomized().stream()
                .flatMap(o -> o instanceof DaemonSet d ? d.getSpec().getTemplate().getSpec().getContainers().stream()
                        : o instanceof io.fabric8.kubernetes.api.model.apps.Deployment dep
                        ? dep.getSpec().getTemplate().getSpec().getContainers().stream() : Stream.empty())
                .map(c -> c.getImage()).filter(i -> i.contains("/strata:")).collect(Collectors.toSet());
        assertEquals(Set.of("ghcr.io/strata-csi/strata:" + expected), strataImages);
        JsonNode chart = Manifests.read(Manifests.CHART.resolve("Chart.yaml")).get(0);
        assertEquals(expected, chart.path("appVersion").asText());
        assertEquals(expected, chart.path("version").asText());
        assertTrue(Files.readString(Manifests.REPO.resolve("Dockerfile")).contains("strata:" + expected),
                "the Dockerfile's build comment names the same tag");
    }
}
