package dev.strata.controller.cluster;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.api.v1alpha1.Conversions;
import dev.strata.api.v1alpha1.EngineCapacity;
import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataNodeStatus;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataSnapshotSpec;
import dev.strata.api.v1alpha1.StrataSnapshotStatus;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.common.CsiException;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.Ids;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.testkit.MockCluster;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster provisioner against fabric8's mock API server (CRUD mode, with Strata's CRDs so that
 * status is a subresource), with {@link FakeNodes} answering for the nodes: placement by candidate
 * nodes, engine and free space; capacity from the registered nodes; a node's refusal as the CSI
 * error, and a refused modification taken back out of the spec. One server for the class, and a
 * volume name of its own for each test.
 */
@Timeout(120)
class ClusterProvisionerTest {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;

    private static MockCluster api;
    private static KubernetesClient client;
    private static KubernetesClient controllerClient;
    private static FakeNodes nodes;
    private static ClusterProvisioner provisioner;

    @BeforeAll
    static void start() throws Exception {
        api = new MockCluster();
        client = api.client();
        register("node-a", Map.of(), engine("dir", 2 * GIB, 4096));
        register("node-b", Map.of(), engine("dir", 5 * GIB, MIB), engine("thin", 3 * GIB, 64 * 1024));
        register("node-c", Map.of("thin", "no thin pool is configured"));
        nodes = new FakeNodes(client);
        controllerClient = api.newClient(KubeClients.CONTROLLER);
        provisioner = ClusterProvisioner.start(controllerClient, "dir", Duration.ofSeconds(20));
    }

    /** Stops the plugins' parts, then the server (MockCluster closes the test's client with it). */
    @AfterAll
    static void stop() {
        if (provisioner != null) {
            provisioner.close();
        }
        if (nodes != null) {
            nodes.close();
        }
        if (controllerClient != null) {
            controllerClient.close();
        }
        if (api != null) {
            api.close();
        }
    }

    // ---- placement ------------------------------------------------------------------------------

    @Test
    void aNewVolumeGoesToTheFirstCandidateWhoseEngineHasRoom() {
        VolumeRecord big = provisioner.createVolume(spec("pvc-place-big", 3 * GIB, Map.of(), null,
                List.of("node-a", "node-b")));
        VolumeRecord small = provisioner.createVolume(spec("pvc-place-small", GIB, Map.of(), null,
                List.of("node-a", "node-b")));

        assertEquals("node-b", big.nodeId(), "node-a has 2 GiB");
        assertEquals(3 * GIB, big.capacityBytes());
        assertEquals("node-a", small.nodeId(), "the candidates' order comes before free space");
        StrataVolume written = client.resources(StrataVolume.class).withName(big.id()).get();
        assertEquals("node-b", written.getSpec().getNode());
        assertEquals("node-b", written.getMetadata().getLabels().get(Resources.NODE_LABEL),
                "the label that node's plugin watches");
        assertTrue(written.getMetadata().getFinalizers().contains(Resources.FINALIZER));
    }

    @Test
    void anUnconstrainedVolumeGoesWhereItsEngineHasMostRoom() {
        VolumeRecord dir = provisioner.createVolume(spec("pvc-any-dir", GIB, Map.of(), null, List.of()));
        VolumeRecord thin = provisioner.createVolume(spec("pvc-any-thin", GIB, Map.of("engine", "thin"), null,
                List.of()));

        assertEquals("node-b", dir.nodeId(), "5 GiB of dir, against node-a's 2");
        assertEquals("dir", dir.engine(), "the default engine");
        assertEquals("node-b", thin.nodeId(), "the one node that runs thin");
        assertEquals("thin", thin.engine());
    }

    /**
     * A remote snapshot as its node reports it: taken at once (listed, ready_to_use false) while its
     * backup uploads, ready once stored; a retry naming another target is ALREADY_EXISTS; and the
     * backup URL it reports restores through a StorageClass's fromBackup, which reaches the node.
     */
    @Test
    void aRemoteSnapshotIsReadyOnceItsBackupIsStoredAndItsUrlRestores() {
        String source = "vol-00000000000000000000000000000000";
        String id = Ids.snapshotId("snap-remote");
        String target = "file:///mnt/backups";
        StrataSnapshot taken = new StrataSnapshot();
        taken.setMetadata(new ObjectMetaBuilder().withName(id).addToLabels(Resources.NODE_LABEL, "node-a").build());
        StrataSnapshotSpec spec = new StrataSnapshotSpec();
        spec.setNode("node-a");
        spec.setName("snap-remote");
        spec.setSourceVolume(source);
        spec.setParameters(Map.of(BackupRef.TARGET_PARAMETER, target));
        taken.setSpec(spec);
        client.resource(taken).create();
        reportBackup(id, BackupRef.uploading(target, id));
        eventually("the uploading snapshot is listed", () -> provisioner.listSnapshots().stream()
                .anyMatch(r -> r.id().equals(id)));

        SnapshotRecord uploading = provisioner.createSnapshot("snap-remote", source,
                Map.of(BackupRef.TARGET_PARAMETER, target), Secrets.NONE);
        assertFalse(uploading.readyToUse(), "not ready to use while its backup uploads");
        assertEquals(target + "#" + id, uploading.backup().url());
        assertCsi(Status.Code.ALREADY_EXISTS, () -> provisioner.createSnapshot("snap-remote", source,
                Map.of(BackupRef.TARGET_PARAMETER, "file:///elsewhere"), Secrets.NONE));
        assertCsi(Status.Code.ALREADY_EXISTS, () -> provisioner.createSnapshot("snap-remote", source, Map.of(), Secrets.NONE));

        reportBackup(id, BackupRef.uploading(target, id).stored());
        eventually("ready to use once stored", () -> provisioner.findSnapshot(id).map(SnapshotRecord::readyToUse)
                .orElse(false));

        VolumeRecord restored = provisioner.createVolume(spec("pvc-from-backup", GIB,
                Map.of(BackupRef.FROM_PARAMETER, target + "#" + id), null, List.of()));
        assertEquals(target + "#" + id, specOf(restored.id()).getSpec().getParameters().get(BackupRef.FROM_PARAMETER),
                "the node restores from the backup the parameter names");
    }

    /** What a node writes of a snapshot it took: Ready, and ready to use when its backup is stored. */
    private static void reportBackup(String id, BackupRef backup) {
        ResourceWrites.status(client, StrataSnapshot.class, id, r -> {
            StrataSnapshotStatus st = r.getStatus() == null ? new StrataSnapshotStatus() : r.getStatus();
            st.setPhase(Resources.READY);
            st.setReadyToUse(backup.phase() == BackupRef.Phase.STORED);
            st.setEngine("dir");
            st.setSizeBytes(GIB);
            st.setCreatedAt("2026-12-04T12:00:00Z");
            Conversions.reportBackup(st, backup);
            r.setStatus(st);
            return r;
        });
    }

    @Test
    void whenNoCandidateHasRoomItIsResourceExhaustedAndNothingIsWritten() {
        CsiException full = assertCsi(Status.Code.RESOURCE_EXHAUSTED, () -> provisioner.createVolume(
                spec("pvc-full", 3 * GIB, Map.of(), null, List.of("node-a", "node-z"))));
        assertTrue(full.getMessage().contains("node-a has " + 2 * GIB + " bytes free for dir"), full.getMessage());
        assertTrue(full.getMessage().contains("node-z runs no dir engine"), full.getMessage());

        CsiException noThin = assertCsi(Status.Code.RESOURCE_EXHAUSTED, () -> provisioner.createVolume(
                spec("pvc-no-thin", GIB, Map.of("engine", "thin"), null, List.of("node-a", "node-c"))));
        assertTrue(noThin.getMessage().contains("node-a runs no thin engine; node-c runs no thin engine"),
                noThin.getMessage());

        for (String name : List.of("pvc-full", "pvc-no-thin")) {
            assertNull(client.resources(StrataVolume.class).withName(Ids.volumeId(name)).get(), name);
        }
    }

    @Test
    void aCloneGoesToItsSourcesNodeWhichTheRequirementsMustAllow() {
        VolumeRecord source = provisioner.createVolume(spec("pvc-clone-src", GIB, Map.of(), null,
                List.of("node-a")));

        VolumeRecord clone = provisioner.createVolume(spec("pvc-clone", GIB, Map.of(),
                ContentSource.volume(source.id()), List.of()));
        assertEquals("node-a", clone.nodeId(), "where the source is, though node-b has more room");
        assertEquals(ContentSource.volume(source.id()), clone.source());

        CsiException excluded = assertCsi(Status.Code.RESOURCE_EXHAUSTED,
                "accessibility_requirements: volume_content_source.volume " + source.id() + " is on node node-a",
                () -> provisioner.createVolume(spec("pvc-clone-b", GIB, Map.of(), ContentSource.volume(source.id()),
                        List.of("node-b"))));
        assertTrue(excluded.getMessage().endsWith("which the requirements exclude"), excluded.getMessage());
        assertCsi(Status.Code.NOT_FOUND, "volume_content_source.volume: ", () -> provisioner.createVolume(spec(
                "pvc-clone-none", GIB, Map.of(), ContentSource.volume(Ids.volumeId("pvc-never")), List.of())));
        assertCsi(Status.Code.NOT_FOUND, "volume_content_source.snapshot: ", () -> provisioner.createVolume(spec(
                "pvc-restore-none", GIB, Map.of(), ContentSource.snapshot(Ids.snapshotId("never")), List.of())));
        assertNull(client.resources(StrataVolume.class).withName(Ids.volumeId("pvc-clone-b")).get());
    }

    // ---- capacity -------------------------------------------------------------------------------

    @Test
    void capacityIsTheSumOfTheNodesOrOneNodesAndNoneForANodeThatDoesNotRunTheEngine() {
        assertEquals(new Capacity(7 * GIB, 5 * GIB, MIB), provisioner.capacity(Map.of(), null),
                "the default engine on every node; the largest volume is still one node's");
        assertEquals(new Capacity(3 * GIB, 3 * GIB, 64 * 1024), provisioner.capacity(Map.of("engine", "thin"), null));
        assertEquals(new Capacity(2 * GIB, 2 * GIB, 4096), provisioner.capacity(Map.of(), "node-a"));
        assertEquals(new Capacity(5 * GIB, 5 * GIB, MIB), provisioner.capacity(Map.of("engine", "dir"), "node-b"));
        assertEquals(new Capacity(0, 0, 0), provisioner.capacity(Map.of("engine", "thin"), "node-c"));
        assertEquals(new Capacity(0, 0, 0), provisioner.capacity(Map.of(), "node-z"));
        assertEquals(List.of("node-a", "node-b", "node-c"), provisioner.nodes());
    }

    @Test
    void expansionBeyondTheLargestVolumeOfItsNodeIsOutOfRange() {
        VolumeRecord v = provisioner.createVolume(spec("pvc-grow", GIB, Map.of(), null, List.of("node-a")));

        assertCsi(Status.Code.OUT_OF_RANGE, "capacity_range.required_bytes: ",
                () -> provisioner.expandVolume(v.id(), 3 * GIB, 0));
        assertEquals(2 * GIB, provisioner.expandVolume(v.id(), 2 * GIB, 0).capacityBytes());
    }

    // ---- the nodes' errors ----------------------------------------------------------------------

    @Test
    void aVolumeTheNodeRefusesFailsWithTheNodesCodeAndIsRemoved() {
        String id = Ids.volumeId("pvc-refused");

        assertCsi(Status.Code.INVALID_ARGUMENT, "node node-a: " + FakeNodes.REFUSED, () -> provisioner.createVolume(
                spec("pvc-refused", GIB, Map.of(FakeNodes.REFUSE, "INVALID_ARGUMENT"), null, List.of("node-a"))));
        eventually("the failed volume is deleted", () -> client.resources(StrataVolume.class).withName(id).get() == null);

        // Not a gRPC code (a node of another version): INTERNAL, since the caller did nothing wrong.
        assertCsi(Status.Code.INTERNAL, "node node-b: " + FakeNodes.REFUSED, () -> provisioner.createVolume(
                spec("pvc-refused-odd", GIB, Map.of(FakeNodes.REFUSE, "ENOSPC"), null, List.of("node-b"))));
    }

    /**
     * A failed attempt still in the way (the call that saw it fail had not removed it, or the informer
     * still shows it): a retry with other parameters is ABORTED, an operation still pending under the
     * name, not ALREADY_EXISTS; the failed attempt is removed, and the retry then served.
     */
    @Test
    void aRetryWithOtherParametersWhileAFailedAttemptLeavesIsAbortedThenServed() {
        String id = Ids.volumeId("pvc-leaving");
        StrataVolume failing = new StrataVolume();
        failing.setMetadata(NodeRequests.meta(id, "node-a"));
        failing.setSpec(Conversions.volumeSpec(spec("pvc-leaving", GIB, Map.of(FakeNodes.REFUSE,
                "INVALID_ARGUMENT"), null, List.of("node-a")), "node-a", "dir"));
        client.resource(failing).create(); // as a controller that stopped before it settled the call
        VolumeSpec other = spec("pvc-leaving", GIB, Map.of(), null, List.of("node-a"));
        // ALREADY_EXISTS while the attempt is still pending (the node has not failed it yet), as for any
        // other request under that name; ABORTED once it has failed
        eventually("a retry with other parameters is ABORTED", () -> codeOf(() -> provisioner.createVolume(other))
                == Status.Code.ABORTED);
        eventually("the failed attempt is removed", () -> client.resources(StrataVolume.class).withName(id).get()
                == null);
        eventually("the retry is served", () -> codeOf(() -> provisioner.createVolume(other)) == Status.Code.OK);
        Map<String, String> served = client.resources(StrataVolume.class).withName(id).get().getSpec().getParameters();
        assertTrue(served == null || !served.containsKey(FakeNodes.REFUSE), "the retry's volume: " + served);
    }

    /** The code a call ends with: OK, or its CsiException's; ALREADY_EXISTS and ABORTED only. */
    private static Status.Code codeOf(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (CsiException e) {
            if (e.code() != Status.Code.ABORTED && e.code() != Status.Code.ALREADY_EXISTS) {
                throw e;
            }
            return e.code();
        }
    }

    @Test
    void deletingAVolumeItsNodeStillUsesAnswersWithTheNodesReason() throws Exception {
        VolumeRecord v = provisioner.createVolume(spec("pvc-busy", GIB, Map.of(FakeNodes.BUSY, "true"), null,
                List.of("node-b")));
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withDeadlineAfter(3, TimeUnit.SECONDS,
                timer);
        try {
            // The wait ends a second before the caller's deadline; the node has said why by then.
            assertCsi(Status.Code.FAILED_PRECONDITION, "node node-b: " + FakeNodes.IN_USE,
                    () -> call.run(() -> provisioner.deleteVolume(v.id())));
        } finally {
            call.cancel(null);
            timer.shutdownNow();
        }
        assertEquals("true", client.resources(StrataVolume.class).withName(v.id()).get().getMetadata()
                .getAnnotations().get(Resources.DELETE_STORAGE), "the node is told to remove the storage");

        // Once the node lets go, a retried DeleteVolume succeeds.
        ResourceWrites.metadata(client, StrataVolume.class, v.id(), r -> {
            r.getSpec().getParameters().remove(FakeNodes.BUSY);
            return r;
        });
        provisioner.deleteVolume(v.id());
        assertNull(client.resources(StrataVolume.class).withName(v.id()).get());
    }

    // ---- modify ---------------------------------------------------------------------------------

    @Test
    void aModificationTheNodeRefusesIsTakenBackOutOfTheSpec() {
        VolumeRecord v = provisioner.createVolume(new VolumeSpec("pvc-mod", GIB, 0, AccessType.MOUNT,
                Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of("mode", "0700"), null, List.of("node-a")));

        assertEquals(Map.of("mode", "0750"), provisioner.modifyVolume(v.id(), Map.of("mode", "0750"))
                .mutableParameters());
        assertEquals(Map.of("mode", "0750"), specOf(v.id()).getSpec().getMutableParameters());

        assertCsi(Status.Code.INVALID_ARGUMENT, "node node-a: mutable_parameters.mode: \"999\"",
                () -> provisioner.modifyVolume(v.id(), Map.of("mode", "999")));
        assertEquals(Map.of("mode", "0750"), specOf(v.id()).getSpec().getMutableParameters(),
                "the refused value is taken back out of the spec");
        eventually("the node acts on the restored spec and its error is gone", () -> {
            StrataVolume now = specOf(v.id());
            return now.getStatus().getErrorCode() == null
                    && Objects.equals(now.getStatus().getObservedGeneration(), now.getMetadata().getGeneration());
        });

        long generation = specOf(v.id()).getMetadata().getGeneration();
        assertCsi(Status.Code.INVALID_ARGUMENT, "mutable_parameters.size: the dir engine has no such mutable "
                + "parameter", () -> provisioner.modifyVolume(v.id(), Map.of("size", "1")));
        assertEquals(generation, specOf(v.id()).getMetadata().getGeneration(), "a key no engine takes writes nothing");
        assertCsi(Status.Code.NOT_FOUND, () -> provisioner.modifyVolume(Ids.volumeId("pvc-never"),
                Map.of("mode", "0750")));
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static StrataVolume specOf(String id) {
        return client.resources(StrataVolume.class).withName(id).get();
    }

    private static VolumeSpec spec(String name, long bytes, Map<String, String> parameters, ContentSource source,
            List<String> candidates) {
        return new VolumeSpec(name, bytes, 0, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), parameters,
                Map.of(), source, candidates);
    }

    private static void register(String name, Map<String, String> unavailable, EngineCapacity... engines) {
        StrataNode n = new StrataNode();
        n.setMetadata(new ObjectMetaBuilder().withName(name).build());
        client.resource(n).create();
        ResourceWrites.status(client, StrataNode.class, name, r -> {
            StrataNodeStatus status = new StrataNodeStatus();
            status.setHealthy(true);
            status.setEngines(List.of(engines));
            status.setUnavailableEngines(unavailable);
            r.setStatus(status);
            return r;
        });
    }

    private static EngineCapacity engine(String name, long freeBytes, long smallestBytes) {
        EngineCapacity e = new EngineCapacity();
        e.setName(name);
        e.setAllocatableBytes(freeBytes);
        e.setCapacityBytes(freeBytes);
        e.setMaximumVolumeBytes(freeBytes);
        e.setMinimumVolumeBytes(smallestBytes);
        e.setAccessTypes(List.of(AccessType.MOUNT.name(), AccessType.BLOCK.name()));
        e.setAccessModes(List.of(AccessMode.SINGLE_NODE_WRITER.name()));
        e.setMutableParameterKeys(List.of("mode"));
        return e;
    }

    private static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within 10 s: " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting until " + what);
            }
        }
    }
}
