package dev.strata.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** deploy/manifests holds what a production CSI driver's deployment holds, and nothing contradicts. */
class ManifestsTest {
    private static final Pattern PINNED = Pattern.compile("[a-z0-9./-]+:v?\\d+\\.\\d+\\.\\d+");
    private final List<HasMetadata> objects = Manifests.kustomized();

    private <T> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private <T extends HasMetadata> T one(Class<T> type, String name) {
        return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }

    private static Container container(PodSpec pod, String name) {
        return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name));
    }

    private PodSpec controller() {
        return one(Deployment.class, "strata-controller").getSpec().getTemplate().getSpec();
    }

    private PodSpec node() {
        return one(DaemonSet.class, "strata-node").getSpec().getTemplate().getSpec();
    }

    @Test
    void everyDocumentIsATypedObjectWithAUniqueName() {
        assertTrue(objects.size() >= 15, "objects: " + objects.size());
        assertEquals(objects.size(), Manifests.byKey(objects).size(), "two objects share a kind and name");
    }

    /**
     * A JVM container with a read-only root filesystem gets a writable /tmp: on the real cluster the
     * controller plugin crash-looped, Netty unable to unpack its epoll library.
     */
    @Test
    void everyReadOnlyStrataContainerHasAWritableTmp() {
        for (PodSpec pod : List.of(controller(), node())) {
            Container strata = container(pod, "strata");
            if (strata.getSecurityContext() != null && Boolean.TRUE.equals(strata.getSecurityContext()
                    .getReadOnlyRootFilesystem())) {
                VolumeMount tmp = strata.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp"))
                        .findFirst().orElseThrow(() -> new AssertionError("no writable /tmp in " + pod));
                assertTrue(pod.getVolumes().stream().anyMatch(v -> v.getName().equals(tmp.getName())
                        && v.getEmptyDir() != null), "/tmp is an emptyDir");
            }
        }
        assertTrue(container(controller(), "strata").getSecurityContext().getReadOnlyRootFilesystem());
    }

    /** The real cluster's host has no /lib/modules: with type Directory the node plugin never started. */
    @Test
    void theNodePluginStartsOnANodeWithoutLibModules() {
        io.fabric8.kubernetes.api.model.Volume modules = node().getVolumes().stream()
                .filter(v -> v.getName().equals("modules")).findFirst().orElseThrow();
        assertEquals("/lib/modules", modules.getHostPath().getPath());
        assertEquals("DirectoryOrCreate", modules.getHostPath().getType());
    }

    @Test
    void theCsiDriverObjectSaysHowKubernetesMustCallStrata() {
        CSIDriver driver = one(CSIDriver.class, "strata.csi.dev");
        assertFalse(driver.getSpec().getAttachRequired());
        assertTrue(driver.getSpec().getPodInfoOnMount());
        assertTrue(driver.getSpec().getStorageCapacity());
        assertEquals(List.of("Persistent", "Ephemeral"), driver.getSpec().getVolumeLifecycleModes());
        assertEquals("File", driver.getSpec().getFsGroupPolicy());
    }

    @Test
    void theControllerRunsTheSidecarsItNeedsWithLeaderElectionTopologyAndCapacity() {
        PodSpec pod = controller();
        assertEquals(Set.of("strata", "csi-provisioner", "csi-snapshotter", "csi-resizer", "liveness-probe"),
                pod.getContainers().stream().map(Container::getName).collect(Collectors.toSet()));
        List<String> provisioner = container(pod, "csi-provisioner").getArgs();
        assertTrue(provisioner.containsAll(List.of("--leader-election", "--feature-gates=Topology=true",
                "--enable-capacity", "--extra-create-metadata", "--strict-topology")), provisioner.toString());
        for (String sidecar : List.of("csi-snapshotter", "csi-resizer")) {
            assertTrue(container(pod, sidecar).getArgs().contains("--leader-election"), sidecar);
        }
        // On the real cluster --default-fstype=ext4 put fs_type ext4 in every CreateVolume, which the
        // overlay, shared and hostpath engines refuse: no volume of theirs could be provisioned.
        assertTrue(provisioner.stream().noneMatch(a -> a.startsWith("--default-fstype")), provisioner.toString());
        assertTrue(pod.getSecurityContext().getRunAsNonRoot(), "the controller needs no root");
        for (Container c : pod.getContainers()) {
            assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop(), c.getName());
            assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/csi")), c.getName());
        }
    }

    @Test
    void theNodePluginIsPrivilegedAndSharesItsMountsWithTheKubelet() {
        PodSpec pod = node();
        Container strata = container(pod, "strata");
        assertTrue(strata.getSecurityContext().getPrivileged());
        Map<String, VolumeMount> mounts = strata.getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getMountPath, m -> m));
        assertEquals("Bidirectional", mounts.get("/var/lib/kubelet").getMountPropagation());
        assertEquals("Bidirectional", mounts.get("/var/lib/strata").getMountPropagation());
        assertTrue(mounts.containsKey("/dev"), "device nodes (loop, device-mapper)");
        assertTrue(strata.getArgs().contains("--node-id=$(NODE_NAME)"));
        Container registrar = container(pod, "node-driver-registrar");
        assertTrue(registrar.getArgs().contains(
                "--kubelet-registration-path=/var/lib/kubelet/plugins/strata.csi.dev/csi.sock"));
        assertTrue(registrar.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/registration")));
        assertEquals("system-node-critical", pod.getPriorityClassName());
        assertEquals("Exists", pod.getTolerations().get(0).getOperator(), "runs on every node, tainted or not");
    }

    @Test
    void everyContainerHasAPinnedImageResourcesAndAProbeWhereItServes() {
        for (PodSpec pod : List.of(controller(), node())) {
            for (Container c : pod.getContainers()) {
                assertTrue(PINNED.matcher(c.getImage()).matches(), "not pinned to a release: " + c.getImage());
                assertFalse(c.getResources().getRequests().isEmpty(), c.getName() + " has no requests");
                assertTrue(c.getResources().getLimits().containsKey("memory"), c.getName() + " has no memory limit");
            }
            assertTrue(container(pod, "strata").getLivenessProbe() != null, "the driver's liveness probe");
        }
    }

    /**
     * The driver's memory limit holds its heap's cap (STRATA_MAX_HEAP, or bin/strata's default) and
     * what the JVM keeps outside the heap, about 90 MiB (docs/benchmarks.md): a limit under the two
     * lets the kernel kill the driver before the JVM can fail the one call that asked too much.
     */
    @Test
    void eachDriversMemoryLimitHoldsItsHeapAndTheJvmBesideIt() throws Exception {
        Matcher defaults = Pattern.compile("STRATA_MAX_HEAP:-(\\d+[mMgG])")
                .matcher(Files.readString(Path.of("").toAbsolutePath().getParent().resolve("bin/strata")));
        assertTrue(defaults.find(), "bin/strata's default heap cap");
        for (PodSpec pod : List.of(controller(), node())) {
            Container strata = container(pod, "strata");
            String heap = strata.getEnv().stream().filter(e -> e.getName().equals("STRATA_MAX_HEAP"))
                    .map(EnvVar::getValue).findFirst().orElse(defaults.group(1));
            long heapBytes = Long.parseLong(heap.substring(0, heap.length() - 1))
                    << (Character.toLowerCase(heap.charAt(heap.length() - 1)) == 'g' ? 30 : 20);
            long limit = Quantity.getAmountInBytes(strata.getResources().getLimits().get("memory")).longValueExact();
            assertTrue(limit - heapBytes >= 90L << 20, pod.getServiceAccountName() + ": a limit of " + limit
                    + " bytes leaves " + ((limit - heapBytes) >> 20) + " MiB beside a heap of " + heap);
        }
    }

    @Test
    void theStorageClassesAreTheDockerPatternsAndWaitForTheirFirstConsumer() {
        Map<String, StorageClass> classes = all(StorageClass.class).stream()
                .collect(Collectors.toMap(c -> c.getMetadata().getName(), c -> c));
        assertEquals(Set.of("strata-thin", "strata-thin-xfs", "strata-thin-block", "strata-overlay",
                "strata-hostpath", "strata-shared"), classes.keySet());
        for (StorageClass c : classes.values()) {
            assertEquals("strata.csi.dev", c.getProvisioner());
            assertEquals("WaitForFirstConsumer", c.getVolumeBindingMode(), c.getMetadata().getName());
            assertTrue(c.getAllowVolumeExpansion(), c.getMetadata().getName());
            assertTrue(c.getParameters().containsKey("engine"), c.getMetadata().getName());
        }
        assertEquals("xfs", classes.get("strata-thin-xfs").getParameters().get("csi.storage.k8s.io/fstype"));
        String root = classes.get("strata-hostpath").getParameters().get("root");
        assertTrue(container(node(), "strata").getArgs().contains("--hostpath-root=" + root),
                "the hostpath class's root is one the node plugin allows");
        assertEquals("strata.csi.dev", one(VolumeSnapshotClass.class, "strata").getDriver());
    }

    @Test
    void everyServiceAccountUsedExistsAndIsBound() {
        Set<String> accounts = all(ServiceAccount.class).stream()
                .map(a -> a.getMetadata().getNamespace() + "/" + a.getMetadata().getName()).collect(Collectors.toSet());
        Set<String> used = Stream.of(one(Deployment.class, "strata-controller"), one(DaemonSet.class, "strata-node"))
                .map(o -> o.getMetadata().getNamespace() + "/" + (o instanceof Deployment d
                        ? d.getSpec().getTemplate().getSpec().getServiceAccountName()
                        : ((DaemonSet) o).getSpec().getTemplate().getSpec().getServiceAccountName()))
                .collect(Collectors.toSet());
        assertTrue(accounts.containsAll(used), "service accounts " + accounts + " lack some of " + used);
        Set<String> bound = Stream.concat(
                all(ClusterRoleBinding.class).stream().flatMap(b -> b.getSubjects().stream()),
                all(RoleBinding.class).stream().flatMap(b -> b.getSubjects().stream()))
                .map(s -> s.getNamespace() + "/" + s.getName()).collect(Collectors.toSet());
        assertTrue(bound.contains("strata-system/strata-controller"), "the controller's account is bound");
        for (Subject s : all(ClusterRoleBinding.class).stream().flatMap(b -> b.getSubjects().stream()).toList()) {
            assertTrue(accounts.contains(s.getNamespace() + "/" + s.getName()), "binding to a missing account " + s);
        }
    }
}
