package dev.strata.e2e.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.strata.backup.BackupException;
import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.testkit.S3Server;
import dev.strata.testkit.TestCertificate;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Flocker's move through S3, as a production cluster has it: an S3 server under a private CA
 * (S3Proxy over https, its certificate from a CA of the test's own), a tenant's Secret with the S3
 * credentials, that CA (AWS_CERT) and an encryption key, and a VolumeSnapshotClass whose target is
 * that server. A volume written on node 1 is snapshotted through the real csi-snapshotter; node 1's
 * plugin uploads it over https with the class's secret (the controller's copy); a claim from the
 * snapshot, consumed on node 2, is restored there from S3 with the same copy; deleting the
 * VolumeSnapshot deletes the backup from the bucket. The server listens on the pods' gateway on
 * the host (bin/cluster's 10.244.0.1), which both nodes' pods reach as they reach the API server.
 */
final class S3MoveScenario implements AutoCloseable {
    /** bin/cluster's gateway: the host's address on node 1's pod bridge, routed to from node 2's. */
    private static final String HOST_ON_THE_POD_NETWORK = "10.244.0.1";
    private static final String BUCKET = "strata-e2e";
    private static final String SECRET = "strata-e2e-s3";
    private static final String CLASS = "strata-e2e-s3-backup";
    private static final String KEY = "the tenant's s3 passphrase";
    private static final String SNAPSHOT = "s3-moving";

    private final TestNamespace ns;
    private final KubernetesClient client;
    private final S3Server server;
    private final String pem;

    private S3MoveScenario(TestNamespace ns, S3Server server, String pem) {
        this.ns = ns;
        this.client = ns.client();
        this.server = server;
        this.pem = pem;
    }

    /** Starts the S3 server over https under a new certificate (self-signed: its own CA) for the gateway. */
    static S3MoveScenario start(TestNamespace ns, Path dir) throws Exception {
        TestCertificate certificate = TestCertificate.make(dir, "strata-e2e-s3", "ip:" + HOST_ON_THE_POD_NETWORK);
        S3Server server = S3Server.startHttps(Files.createDirectories(dir.resolve("objects")), certificate,
                HOST_ON_THE_POD_NETWORK);
        server.createBucket(BUCKET);
        return new S3MoveScenario(ns, server, certificate.pem());
    }

    /** The move of a strata-shared volume from node 1 to node 2, through the bucket. */
    void moves() throws Exception {
        String target = server.url(BUCKET, "cluster");
        BackupScenario.applyClassWithSecret(client, CLASS, target, SECRET, Map.of("AWS_ACCESS_KEY_ID",
                S3Server.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY, "AWS_CERT", pem, "backupKey", KEY));
        ns.pvc("s3-src", "strata-shared", "64Mi", "ReadWriteOnce", null);
        String written = ns.runToEnd(TestNamespace.pod("s3-writer", "s3-src",
                "dd if=/dev/urandom of=/data/blob bs=1M count=4 2>/dev/null && echo kept in s3 > /data/f && sync"
                        + " && sha256sum < /data/blob")).strip();
        try {
            ns.snapshot(SNAPSHOT, "s3-src", CLASS);
        } catch (RuntimeException e) {
            throw new AssertionError(SNAPSHOT + " is not ready to use: " + diagnostics(), e);
        }
        List<String> manifests = server.keys(BUCKET, "cluster/backups/");
        assertEquals(1, manifests.size(), "the backup's manifest is in the bucket: " + manifests);
        BackupException locked = assertThrows(BackupException.class, () -> BackupRepository.open(target,
                new BackupSecrets(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, null, pem, null)));
        assertEquals(BackupException.Kind.KEY_REQUIRED, locked.kind(), "the class's key encrypted the bucket");
        assertEquals(1, BackupRepository.open(target, new BackupSecrets(S3Server.ACCESS_KEY, S3Server.SECRET_KEY,
                null, pem, KEY.getBytes(StandardCharsets.UTF_8))).list().size(), "the key opens it");

        ns.pvc("s3-moved", "strata-shared", "64Mi", "ReadWriteOnce", Map.of("VolumeSnapshot", SNAPSHOT));
        String[] there = ns.runToEnd(SecondNodeScenario.onNode2(TestNamespace.pod("s3-reader", "s3-moved",
                "sha256sum < /data/blob; cat /data/f"))).strip().split("\n");
        assertEquals(written, there[0], "the blob came across whole");
        assertEquals("kept in s3", there[1]);
        assertEquals(SecondNodeScenario.NODE_2, client.persistentVolumeClaims().inNamespace(TestNamespace.NS)
                .withName("s3-moved").get().getMetadata().getAnnotations().get("volume.kubernetes.io/selected-node"));

        deleteSnapshot();
        TestNamespace.await("the backup, its chunks and packs leave the bucket",
                () -> server.keys(BUCKET, "cluster/backups/").isEmpty()
                        && server.keys(BUCKET, "cluster/chunks/").isEmpty()
                        && server.keys(BUCKET, "cluster/packs/").isEmpty());
        System.out.printf("[cluster] a snapshot went to S3 over https under a private CA (AWS_CERT in the class's "
                + "secret) from node 1 and was restored on %s; its delete emptied %s%n", SecondNodeScenario.NODE_2,
                target);
    }

    private void deleteSnapshot() {
        client.genericKubernetesResources(TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS)
                .withName(SNAPSHOT).delete();
    }

    /** What says why a snapshot is not ready: its status and events, and the plugins' last log lines. */
    private String diagnostics() {
        StringBuilder out = new StringBuilder();
        var snapshot = client.genericKubernetesResources(TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS)
                .withName(SNAPSHOT).get();
        out.append("\n  status: ").append(snapshot == null ? "none" : snapshot.getAdditionalProperties().get("status"));
        out.append(ns.events("VolumeSnapshot", SNAPSHOT));
        for (String plugin : List.of("strata-controller", "strata-node")) {
            for (var pod : client.pods().inNamespace(RealClusterTest.DRIVER_NAMESPACE)
                    .withLabel("app.kubernetes.io/name", plugin).list().getItems()) {
                out.append("\n  ---- ").append(pod.getMetadata().getName()).append(" (strata), last lines:\n")
                        .append(client.pods().inNamespace(RealClusterTest.DRIVER_NAMESPACE)
                                .withName(pod.getMetadata().getName()).inContainer("strata").tailingLines(40).getLog());
            }
        }
        return out.toString();
    }

    /**
     * Deletes the snapshot while the server is still up (its delete removes the backup from the
     * bucket, and waits for it), then the class, the secret and the server.
     */
    @Override
    public void close() throws Exception {
        deleteSnapshot();
        try {
            TestNamespace.await("VolumeSnapshot " + SNAPSHOT + " is gone", () -> client.genericKubernetesResources(
                    TestNamespace.SNAPSHOTS).inNamespace(TestNamespace.NS).withName(SNAPSHOT).get() == null);
        } finally {
            BackupScenario.deleteClassWithSecret(client, CLASS, SECRET);
            server.close();
        }
    }
}
