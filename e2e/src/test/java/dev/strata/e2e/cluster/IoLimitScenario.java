package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Per-volume I/O limits on the real cluster, measured with fio from inside pods (direct I/O: on
 * cgroup v1 the kernel throttles only I/O a process submits itself, not the page cache's writeback).
 * A pod on a limited class measures within 10% of its limit while a neighbour on an unlimited class,
 * on the same node and the same kind of device, keeps its speed; a VolumeAttributesClass then
 * raises the limit of the running pod (ControllerModifyVolume, online).
 */
final class IoLimitScenario {
    static final String IMAGE = "strata.test/fio:debian";
    static final String LIMITED = "strata-e2e-limited";
    static final String UNLIMITED = "strata-e2e-unlimited";
    static final String FASTER = "strata-e2e-faster";
    static final long LIMIT = 8L << 20;
    static final long RAISED = 16L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TestNamespace ns;
    private final KubernetesClient client;

    IoLimitScenario(TestNamespace ns) {
        this.ns = ns;
        this.client = ns.client();
    }

    void run() throws Exception {
        classes();
        ns.pvc("limited", LIMITED, "256Mi", "ReadWriteOnce", null);
        ns.pvc("neighbour", UNLIMITED, "256Mi", "ReadWriteOnce", null);
        for (String name : new String[] {"limited", "neighbour"}) {
            client.pods().inNamespace(TestNamespace.NS).resource(fioPod(name)).create();
        }
        for (String name : new String[] {"limited", "neighbour"}) {
            client.pods().inNamespace(TestNamespace.NS).withName("fio-" + name).waitUntilReady(3, TimeUnit.MINUTES);
        }
        long alone = fio("neighbour", "write");
        CompletableFuture<Long> limitedWrite = CompletableFuture.supplyAsync(() -> fioUnchecked("limited", "write"));
        long together = fio("neighbour", "write");
        long limited = limitedWrite.get(3, TimeUnit.MINUTES);
        long limitedRead = fio("limited", "read");
        System.out.printf(Locale.ROOT, "[cluster] fio, 1 MiB direct I/O for 10 s: limited pod (%d MiB/s) writes %.2f "
                + "MiB/s, reads %.2f MiB/s; its unlimited neighbour writes %.1f MiB/s beside it, %.1f MiB/s alone%n",
                LIMIT >> 20, mib(limited), mib(limitedRead), mib(together), mib(alone));
        assertWithinTenPercent(LIMIT, limited, "the limited pod's writes");
        assertWithinTenPercent(LIMIT, limitedRead, "the limited pod's reads");
        assertTrue(together > 4 * LIMIT && together > alone / 2, "the neighbour keeps its speed: "
                + mib(together) + " MiB/s beside the limited pod, " + mib(alone) + " MiB/s alone");

        client.persistentVolumeClaims().inNamespace(TestNamespace.NS).withName("limited").edit(p -> {
            p.getSpec().setVolumeAttributesClassName(FASTER);
            return p;
        });
        TestNamespace.await("the claim takes " + FASTER, () -> FASTER.equals(client.persistentVolumeClaims()
                .inNamespace(TestNamespace.NS).withName("limited").get().getStatus()
                .getCurrentVolumeAttributesClassName()));
        long raised = fio("limited", "write");
        System.out.printf(Locale.ROOT, "[cluster] after %s (%d MiB/s), the running pod writes %.2f MiB/s%n", FASTER,
                RAISED >> 20, mib(raised));
        assertWithinTenPercent(RAISED, raised, "the running pod's writes after the VolumeAttributesClass");
        ns.deletePod("fio-limited");
        ns.deletePod("fio-neighbour");
    }

    private void classes() {
        for (var entry : Map.of(LIMITED, Map.of("engine", "dir", "writeBytesPerSecond", "8Mi",
                "readBytesPerSecond", "8Mi"), UNLIMITED, Map.of("engine", "dir")).entrySet()) {
            client.resource(new StorageClassBuilder().withNewMetadata().withName(entry.getKey()).endMetadata()
                    .withProvisioner(RealClusterTest.DRIVER).withParameters(entry.getValue())
                    .withVolumeBindingMode("WaitForFirstConsumer").withReclaimPolicy("Delete").build())
                    .serverSideApply();
        }
        client.resource(new VolumeAttributesClassBuilder().withNewMetadata().withName(FASTER).endMetadata()
                .withDriverName(RealClusterTest.DRIVER).withParameters(Map.of("writeBytesPerSecond", "16Mi"))
                .build()).serverSideApply();
    }

    void deleteClasses() {
        client.storage().v1().storageClasses().withName(LIMITED).delete();
        client.storage().v1().storageClasses().withName(UNLIMITED).delete();
        client.resource(new VolumeAttributesClassBuilder().withNewMetadata().withName(FASTER).endMetadata()
                .build()).delete();
    }

    private static Pod fioPod(String claim) {
        return new PodBuilder().withNewMetadata().withName("fio-" + claim).withNamespace(TestNamespace.NS)
                .endMetadata().withNewSpec().withTerminationGracePeriodSeconds(0L)
                .addNewContainer().withName("c").withImage(IMAGE).withImagePullPolicy("IfNotPresent")
                .withCommand("sleep", "3600")
                .addNewVolumeMount().withName("v").withMountPath("/data").endVolumeMount().endContainer()
                .addNewVolume().withName("v").withNewPersistentVolumeClaim().withClaimName(claim)
                .endPersistentVolumeClaim().endVolume().endSpec().build();
    }

    /**
     * Bytes per second fio measures in the pod: 1 MiB direct I/O on a 128 MiB file, for 10 s. Reads
     * go over its first 64 MiB only, which the limited write (at least 72 MiB in its 10 s, or it
     * failed) has surely written: fio allocates the file unwritten, and a direct read of an
     * unwritten extent is zeros from the filesystem, no I/O to throttle. A write that fell a little
     * short of 80 MiB let the read reach the unwritten tail in its last moments (12.9 MiB/s measured
     * against 8, ci82).
     */
    private long fio(String claim, String rw) throws Exception {
        String out = ns.exec("fio-" + claim, "fio", "--name=" + rw, "--filename=/data/fio",
                rw.equals("read") ? "--size=64M" : "--size=128M",
                "--rw=" + rw, "--bs=1M", "--direct=1", "--ioengine=psync", "--time_based", "--runtime=10",
                "--output-format=json");
        JsonNode job = JSON.readTree(out.substring(out.indexOf('{'))).path("jobs").path(0);
        long bytesPerSecond = job.path(rw).path("bw_bytes").asLong();
        assertTrue(bytesPerSecond > 0, "fio's JSON: " + out);
        return bytesPerSecond;
    }

    private long fioUnchecked(String claim, String rw) {
        try {
            return fio(claim, rw);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertWithinTenPercent(long limit, long measured, String what) {
        double ratio = (double) measured / limit;
        assertTrue(ratio > 0.9 && ratio < 1.1, what + ": " + mib(measured) + " MiB/s against a limit of "
                + mib(limit) + " MiB/s");
    }

    private static double mib(long bytesPerSecond) {
        return bytesPerSecond / (double) (1 << 20);
    }
}
