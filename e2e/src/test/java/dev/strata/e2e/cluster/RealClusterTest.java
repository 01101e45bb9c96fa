package dev.strata.e2e.cluster;

import static dev.strata.e2e.cluster.TestNamespace.BUSYBOX;
import static dev.strata.e2e.cluster.TestNamespace.NS;
import static dev.strata.e2e.cluster.TestNamespace.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.testkit.PrometheusServer;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Strata on a real Kubernetes ({@code bin/cluster}): installed as users install it, with
 * {@code kubectl apply -k} of the manifests, then used by pods through PVCs for every StorageClass
 * the host can serve; then uninstalled and installed again with {@code helm install} of the chart,
 * used, and {@code helm uninstall}ed. The thin classes need device-mapper: where the host has none
 * they must say so (capacity 0, events), and the test prints what they said. The longer stories are
 * scenario classes of their own, each working in the test namespace ({@link TestNamespace}).
 */
@Tag("cluster")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealClusterTest {
    static final String DRIVER = "strata.csi.dev";
    static final String DRIVER_NAMESPACE = "strata-system";
    static final String NODE_1 = "strata-cluster";
    static final List<String> NON_THIN = List.of("strata-overlay", "strata-hostpath", "strata-shared");
    static final List<String> THIN = List.of("strata-thin", "strata-thin-xfs", "strata-thin-block");
    /** Where Strata's hostpath root is on the host (bin/cluster keeps the cluster's state under its own directory). */
    static final Path HOST_ROOT = LocalCluster.DIR.resolve("strata-host");

    LocalCluster cluster;
    TestNamespace ns;
    InstallScenario installation;

    @BeforeAll
    void up() throws Exception {
        if (LocalCluster.unavailable() != null) {
            return; // each test reports itself skipped, with the reason
        }
        cluster = LocalCluster.up();
        ns = new TestNamespace(cluster.client());
        installation = new InstallScenario(ns);
    }

    @BeforeEach
    void needsTheCluster() {
        assumeTrue(cluster != null, LocalCluster.unavailable());
    }

    @AfterAll
    void down() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    KubernetesClient client() {
        return cluster.client();
    }

    // ---- kubectl apply -k deploy/manifests ------------------------------------------------------

    @Test
    @Order(1)
    void manifestsInstallAndComeUp() throws Exception {
        installation.install("manifests");
    }

    @ParameterizedTest
    @ValueSource(strings = {"strata-overlay", "strata-hostpath", "strata-shared"})
    @Order(2)
    void dataOutlivesThePod(String storageClass) {
        String claim = "data-" + storageClass;
        ns.pvc(claim, storageClass, "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("writer-" + storageClass, claim, "echo kept-" + storageClass + " > /data/f && sync"));
        assertEquals("kept-" + storageClass, ns.runToEnd(pod("reader-" + storageClass, claim, "cat /data/f")).strip());
    }

    @ParameterizedTest
    @ValueSource(strings = {"strata-overlay", "strata-hostpath", "strata-shared"})
    @Order(3)
    void snapshotAndRestore(String storageClass) {
        String source = "snap-src-" + storageClass;
        ns.pvc(source, storageClass, "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("snap-writer-" + storageClass, source, "echo before > /data/f && sync"));
        String snapshot = "snap-" + storageClass;
        ns.snapshot(snapshot, source);
        ns.runToEnd(pod("snap-changer-" + storageClass, source, "echo after > /data/f && sync"));
        String restored = "snap-restored-" + storageClass;
        ns.pvc(restored, storageClass, "64Mi", "ReadWriteOnce", Map.of("VolumeSnapshot", snapshot));
        assertEquals("before", ns.runToEnd(pod("snap-reader-" + storageClass, restored, "cat /data/f")).strip());
    }

    @Test
    @Order(4)
    void cloneFromAClaim() {
        ns.pvc("clone-src", "strata-overlay", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("clone-writer", "clone-src", "echo original > /data/f && sync"));
        ns.pvc("clone", "strata-overlay", "64Mi", "ReadWriteOnce", Map.of("PersistentVolumeClaim", "clone-src"));
        assertEquals("original", ns.runToEnd(pod("clone-reader", "clone", "cat /data/f; echo changed > /data/f"))
                .strip());
        assertEquals("original", ns.runToEnd(pod("clone-src-reader", "clone-src", "cat /data/f")).strip(),
                "the clone is a copy: writing it leaves its source alone");
    }

    @Test
    @Order(5)
    void expansionIsSeenByDfInThePod() throws Exception {
        ns.pvc("grow", "strata-overlay", "64Mi", "ReadWriteOnce", null);
        if (!LocalCluster.hasCapSysResource()) {
            // The kernel grows a mounted ext4 only for CAP_SYS_RESOURCE, which this host withholds even
            // from privileged containers: the volume grows while no pod uses it, and the next pod sees it.
            System.out.println("[cluster] expansion offline: this host's root lacks CAP_SYS_RESOURCE, so a mounted"
                    + " overlay volume cannot grow (LoopFilesystem); growing it between pods");
            String df = "df -k /data | tail -1 | awk '{print $2}'";
            long before = Long.parseLong(ns.runToEnd(pod("grow-before", "grow", df)).strip());
            ns.growTo("grow", "256Mi");
            long after = Long.parseLong(ns.runToEnd(pod("grow-after", "grow", df)).strip());
            assertTrue(before < 70_000 && after > 200_000, "df in the pods: " + before + " KiB, then " + after
                    + " KiB");
            return;
        }
        client().pods().inNamespace(NS).resource(pod("grower", "grow", "sleep 3600")).create();
        client().pods().inNamespace(NS).withName("grower").waitUntilReady(3, TimeUnit.MINUTES);
        long before = dfKib("grower");
        ns.growTo("grow", "256Mi");
        long deadline = System.currentTimeMillis() + 120_000;
        long after = dfKib("grower");
        while (after < 200_000 && System.currentTimeMillis() < deadline) {
            Thread.sleep(2000);
            after = dfKib("grower");
        }
        assertTrue(before < 70_000 && after > 200_000, "df in the pod: " + before + " KiB, then " + after + " KiB");
        ns.deletePod("grower");
    }

    private long dfKib(String pod) throws Exception {
        return Long.parseLong(ns.exec(pod, "sh", "-c", "df -k /data | tail -1 | awk '{print $2}'").strip());
    }

    @Test
    @Order(6)
    void twoPodsShareOneVolume() throws Exception {
        ns.pvc("together", "strata-shared", "64Mi", "ReadWriteMany", null);
        for (String name : List.of("share-a", "share-b")) {
            client().pods().inNamespace(NS).resource(pod(name, "together", "sleep 3600")).create();
        }
        for (String name : List.of("share-a", "share-b")) {
            client().pods().inNamespace(NS).withName(name).waitUntilReady(3, TimeUnit.MINUTES);
        }
        ns.exec("share-a", "sh", "-c", "echo from-a > /data/note");
        assertEquals("from-a", ns.exec("share-b", "cat", "/data/note").strip());
        ns.exec("share-b", "sh", "-c", "echo from-b >> /data/note");
        assertEquals("from-a\nfrom-b", ns.exec("share-a", "cat", "/data/note").strip());
        ns.deletePod("share-a");
        ns.deletePod("share-b");
    }

    @Test
    @Order(7)
    void hostpathServesHostFilesAndReadOnlyMounts() throws Exception {
        // A dynamically made directory: its files are on the node, where the pathPattern says.
        ns.pvc("on-host", "strata-hostpath", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("host-writer", "on-host", "echo on-the-node > /data/visible && sync"));
        assertEquals("on-the-node", Files.readString(HOST_ROOT.resolve(NS).resolve("on-host").resolve("visible"))
                .strip());
        // docker run -v /host/file.conf:/etc/app.conf:ro: a static PV whose handle is one host file.
        Path file = HOST_ROOT.resolve("files").resolve("app.conf");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "from-the-host\n");
        PersistentVolume pv = new PersistentVolumeBuilder().withNewMetadata().withName("host-file").endMetadata()
                .withNewSpec().withAccessModes("ReadOnlyMany").withPersistentVolumeReclaimPolicy("Retain")
                .withStorageClassName("").addToCapacity("storage", new Quantity("1Mi"))
                .withNewCsi().withDriver(DRIVER).withVolumeHandle("/var/lib/strata-host/files/app.conf")
                .withReadOnly(true).endCsi().endSpec().build();
        client().persistentVolumes().resource(pv).create();
        client().persistentVolumeClaims().inNamespace(NS).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName("host-file").withNamespace(NS).endMetadata()
                .withNewSpec().withStorageClassName("").withVolumeName("host-file").withAccessModes("ReadOnlyMany")
                .withNewResources().addToRequests("storage", new Quantity("1Mi")).endResources().endSpec().build())
                .create();
        Pod reader = new PodBuilder(pod("host-file-reader", "host-file",
                "cat /etc/app.conf; if echo x >> /etc/app.conf; then echo WRITABLE; else echo read-only; fi"))
                .editSpec().editFirstContainer().editFirstVolumeMount().withMountPath("/etc/app.conf")
                .withReadOnly(true).endVolumeMount().endContainer().endSpec().build();
        assertEquals("from-the-host\nread-only", ns.runToEnd(reader).strip().replaceAll("(?m)^sh: .*\\n?", "").strip());
        assertEquals("from-the-host\n", Files.readString(file));
    }

    @Test
    @Order(8)
    void ephemeralInlineVolume() {
        Pod p = new PodBuilder().withNewMetadata().withName("inline").withNamespace(NS).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("c").withImage(BUSYBOX).withImagePullPolicy("IfNotPresent")
                .withCommand("sh", "-c", "echo scratch > /scratch/f && cat /scratch/f && df -k /scratch | tail -1")
                .addNewVolumeMount().withName("v").withMountPath("/scratch").endVolumeMount().endContainer()
                .addNewVolume().withName("v").withNewCsi().withDriver(DRIVER)
                .withVolumeAttributes(Map.of("size", "32Mi")).endCsi().endVolume().endSpec().build();
        String out = ns.runToEnd(p);
        assertTrue(out.startsWith("scratch\n"), out);
    }

    @Test
    @Order(9)
    void waitForFirstConsumerBindsWhereThePodRuns() throws Exception {
        ns.pvc("later", "strata-overlay", "64Mi", "ReadWriteOnce", null);
        Thread.sleep(3000);
        PersistentVolumeClaim pending = client().persistentVolumeClaims().inNamespace(NS).withName("later").get();
        assertEquals("Pending", pending.getStatus().getPhase(), "no pod yet: the claim waits for its first consumer");
        assertTrue(ns.events("PersistentVolumeClaim", "later").contains("WaitForFirstConsumer"),
                ns.events("PersistentVolumeClaim", "later"));
        ns.runToEnd(pod("first-consumer", "later", "true"));
        PersistentVolumeClaim bound = client().persistentVolumeClaims().inNamespace(NS).withName("later").get();
        assertEquals("Bound", bound.getStatus().getPhase());
        assertEquals(NODE_1, bound.getMetadata().getAnnotations().get("volume.kubernetes.io/selected-node"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"strata-overlay", "strata-shared"})
    @Order(10)
    void fsGroupOwnsTheVolume(String storageClass) {
        String claim = "fsgroup-" + storageClass;
        ns.pvc(claim, storageClass, "64Mi", "ReadWriteOnce", null);
        Pod p = new PodBuilder(pod("fsgroup-" + storageClass, claim,
                "touch /data/mine && stat -c '%g' /data && stat -c '%g' /data/mine && id -u"))
                .editSpec().withNewSecurityContext().withRunAsUser(1000L).withRunAsGroup(3000L).withFsGroup(4000L)
                .endSecurityContext().endSpec().build();
        assertEquals("4000\n4000\n1000", ns.runToEnd(p).strip());
    }

    @Test
    @Order(11)
    void deleteRemovesStorageAndRetainKeepsIt() throws Exception {
        ns.pvc("doomed", "strata-overlay", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("doomed-writer", "doomed", "echo x > /data/f"));
        String pv = client().persistentVolumeClaims().inNamespace(NS).withName("doomed").get().getSpec()
                .getVolumeName();
        String handle = client().persistentVolumes().withName(pv).get().getSpec().getCsi().getVolumeHandle();
        client().persistentVolumeClaims().inNamespace(NS).withName("doomed").delete();
        client().persistentVolumes().withName(pv).waitUntilCondition(v -> v == null, 2, TimeUnit.MINUTES);
        assertTrue(InstallScenario.strataVolumes(client()).stream()
                        .noneMatch(v -> v.getMetadata().getName().equals(handle)),
                "the StrataVolume " + handle + " is gone with the PV");

        ns.pvc("kept", "strata-hostpath", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("kept-writer", "kept", "echo kept > /data/f && sync"));
        String keptPv = client().persistentVolumeClaims().inNamespace(NS).withName("kept").get().getSpec()
                .getVolumeName();
        client().persistentVolumeClaims().inNamespace(NS).withName("kept").delete();
        client().persistentVolumes().withName(keptPv).waitUntilCondition(v -> v != null
                && "Released".equals(v.getStatus().getPhase()), 2, TimeUnit.MINUTES);
        assertEquals("kept", Files.readString(HOST_ROOT.resolve(NS).resolve("kept").resolve("f")).strip(),
                "Retain: the host directory and its data stay");
    }

    /** The thin classes on a host without device-mapper: a visible reason, never a hang (DiagnosticsScenario). */
    @Test
    @Order(12)
    void thinClassesSayWhyTheyCannotServe() throws Exception {
        assumeTrue(!LocalCluster.hasDeviceMapper(), "skipped: this host has device-mapper; the thin classes serve");
        new DiagnosticsScenario(ns).thinClassesOnANodeWithoutDeviceMapper();
    }

    /** A volume whose storage goes away behind the driver's back is an event on its claim (DiagnosticsScenario). */
    @Test
    @Order(13)
    void anAbnormalVolumeIsAnEventOnItsClaim() throws Exception {
        new DiagnosticsScenario(ns).anAbnormalVolumeIsAnEventOnItsClaim();
    }

    /** A real Prometheus scrapes both plugins and loads the alert rules (PrometheusScenario). */
    @Test
    @Order(14)
    void aRealPrometheusScrapesBothPlugins() throws Exception {
        assumeTrue(PrometheusServer.installed(),
                "Prometheus is not installed (Debian package prometheus; .ci/install-deps)");
        new PrometheusScenario(client()).run();
    }

    /** Per-volume I/O limits measured with fio in pods (IoLimitScenario). */
    @Test
    @Order(15)
    void ioLimitsHoldALimitedPodAndSpareItsNeighbour() throws Exception {
        assumeTrue(LocalCluster.onPath("fio"), "skipped: no fio on this host, so the cluster has no fio image "
                + "(.ci/install-deps test installs it)");
        IoLimitScenario scenario = new IoLimitScenario(ns);
        CleanUp.after(scenario::run, () -> {
            ns.deleteEverything();
            scenario.deleteClasses();
        });
    }

    /**
     * Remote snapshots through the strata-backup VolumeSnapshotClass, restored through fromBackup; an
     * upload that fails is the VolumeSnapshot's error until a try stores it (BackupScenario).
     */
    @Test
    @Order(16)
    void aRemoteSnapshotIsStoredOffTheVolumeAndRestoredFromItsUrl() throws Exception {
        BackupScenario scenario = new BackupScenario(ns);
        CleanUp.after(() -> {
            scenario.run();
            scenario.aFailedUploadIsTheVolumeSnapshotsError();
        }, () -> {
            ns.deleteEverything();
            scenario.deleteClass();
        });
    }

    /** The same with a class's own secret: its key encrypts, restores and deletes (BackupScenario). */
    @Test
    @Order(17)
    void aClassesSecretKeysItsBackupsThroughTheRealSidecars() throws Exception {
        BackupScenario scenario = new BackupScenario(ns);
        CleanUp.after(scenario::runWithClassSecrets, () -> {
            ns.deleteEverything();
            scenario.deleteClass();
        });
    }

    /**
     * A second node (SecondNodeScenario): a volume goes where its first pod runs, a remote snapshot
     * follows its pod to the other node on two engines, and through an S3 server under a private CA
     * (S3MoveScenario); a local one stays. Node 2 stays until down.
     */
    @Test
    @Order(18)
    void aSecondNodeTakesWhatTheFirstBackedUp(@TempDir Path s3) throws Exception {
        SecondNodeScenario scenario = new SecondNodeScenario(ns);
        CleanUp.after(() -> {
            scenario.addNode();
            scenario.aNewVolumeGoesWhereItsPodRuns();
            scenario.moves("strata-overlay");
            scenario.moves("strata-shared");
            try (S3MoveScenario throughS3 = S3MoveScenario.start(ns, s3)) {
                throughS3.moves();
            }
            scenario.aLocalSnapshotStaysOnItsNode();
        }, ns::deleteEverything);
    }

    // ---- helm install / uninstall ---------------------------------------------------------------

    /** kubectl delete -k keeps a Retain volume's data (InstallScenario). */
    @Test
    @Order(20)
    void manifestsUninstallKeepsRetainData() throws Exception {
        installation.uninstallManifestsKeepingRetainData();
    }

    @Test
    @Order(21)
    void chartInstallsAndServes() throws Exception {
        installation.install("helm");
        for (String sc : NON_THIN) {
            String claim = "helm-" + sc;
            ns.pvc(claim, sc, "64Mi", "ReadWriteOnce", null);
            ns.runToEnd(pod("helm-writer-" + sc, claim, "echo helm > /data/f && sync"));
            assertEquals("helm", ns.runToEnd(pod("helm-reader-" + sc, claim, "cat /data/f")).strip());
        }
        ns.pvc("helm-snap-src", "strata-overlay", "64Mi", "ReadWriteOnce", null);
        ns.runToEnd(pod("helm-snap-writer", "helm-snap-src", "echo snapped > /data/f && sync"));
        ns.snapshot("helm-snap", "helm-snap-src");
        ns.pvc("helm-restored", "strata-overlay", "64Mi", "ReadWriteOnce", Map.of("VolumeSnapshot", "helm-snap"));
        assertEquals("snapped", ns.runToEnd(pod("helm-snap-reader", "helm-restored", "cat /data/f")).strip());
    }

    /** helm uninstall leaves only the CRDs and Retain volumes (InstallScenario). */
    @Test
    @Order(22)
    void helmUninstallLeavesOnlyCrdsAndRetainVolumes() throws Exception {
        installation.helmUninstallLeavingOnlyCrdsAndRetainVolumes();
    }
}
