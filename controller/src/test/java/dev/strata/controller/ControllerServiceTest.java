package dev.strata.controller;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.BuildInfo;
import dev.strata.common.CsiException;
import dev.strata.common.Gate;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.Ids;
import dev.strata.common.port.Provisioner;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.csi.v1.ControllerModifyVolumeRequest;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateSnapshotResponse;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.GetCapacityRequest;
import dev.strata.csi.v1.GetCapacityResponse;
import dev.strata.csi.v1.Topology;
import dev.strata.csi.v1.TopologyRequirement;
import dev.strata.csi.v1.VolumeCapability;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * What the Controller service makes of a request before its provisioner sees it: the topology of
 * CreateVolume as the nodes to try, in order, and the topology of GetCapacity as the node to ask
 * about. The provisioner is a plain fake that records what it was asked.
 */
class ControllerServiceTest {
    private static final String KEY = BuildInfo.TOPOLOGY_KEY;

    private final FakeProvisioner provisioner = new FakeProvisioner(List.of("node-a", "node-b", "node-c"));
    private final ControllerService service = new ControllerService(gate(provisioner));

    // ---- placement ------------------------------------------------------------------------------

    @Test
    void preferredTopologiesComeFirstThenRequisiteOnesAndUnservedOnesAreLeftOut() {
        TopologyRequirement requirement = TopologyRequirement.newBuilder()
                .addRequisite(on("node-c")).addRequisite(on("node-gone")).addRequisite(on("node-b"))
                .addRequisite(on("node-a")).addRequisite(zone("z1"))
                .addPreferred(on("node-b")).addPreferred(on("node-gone"))
                .build();

        call(service::createVolume, volume("pvc-1").setAccessibilityRequirements(requirement).build());

        assertEquals(List.of("node-b", "node-c", "node-a"), provisioner.created.get(0).nodes());
    }

    @Test
    void requisiteTopologiesAloneKeepTheirOrder() {
        call(service::createVolume, volume("pvc-2").setAccessibilityRequirements(TopologyRequirement.newBuilder()
                .addRequisite(on("node-c")).addRequisite(on("node-a"))).build());

        assertEquals(List.of("node-c", "node-a"), provisioner.created.get(0).nodes());
    }

    @Test
    void withoutRequirementsAnyNodeWillDo() {
        call(service::createVolume, volume("pvc-3").build());
        call(service::createVolume, volume("pvc-4").setAccessibilityRequirements(TopologyRequirement
                .getDefaultInstance()).build());

        assertEquals(List.of(List.of(), List.of()), provisioner.created.stream().map(VolumeSpec::nodes).toList());
    }

    @Test
    void requirementsNoRegisteredNodeServesAreResourceExhaustedAndNothingIsCreated() {
        // CSI: "Unable to provision in accessible_topology" is RESOURCE_EXHAUSTED.
        CsiException e = assertCsi(Status.Code.RESOURCE_EXHAUSTED, "accessibility_requirements:",
                () -> call(service::createVolume, volume("pvc-5").setAccessibilityRequirements(TopologyRequirement
                        .newBuilder().addRequisite(on("node-gone")).addRequisite(zone("z1"))
                        .addPreferred(on("node-gone"))).build()));

        assertTrue(e.getMessage().contains(KEY + " in [node-a, node-b, node-c]"), e.getMessage());
        assertTrue(provisioner.created.isEmpty());
    }

    // ---- capacity -------------------------------------------------------------------------------

    @Test
    void aTopologySegmentAsksForItsNodeAndNoTopologyForTheWholeCluster() {
        provisioner.capacities.put("node-b", new Capacity(5 << 20, 3 << 20, 4096));
        provisioner.capacities.put(null, new Capacity(9 << 20, 3 << 20, 4096));

        GetCapacityResponse one = call(service::getCapacity, GetCapacityRequest.newBuilder()
                .setAccessibleTopology(on("node-b")).putParameters("engine", "dir").build());
        GetCapacityResponse all = call(service::getCapacity, GetCapacityRequest.getDefaultInstance());

        assertEquals(5 << 20, one.getAvailableCapacity());
        assertEquals(3 << 20, one.getMaximumVolumeSize().getValue(), "the largest volume one node can make now");
        assertEquals(4096, one.getMinimumVolumeSize().getValue());
        assertEquals(9 << 20, all.getAvailableCapacity());
        assertEquals(Arrays.asList("node-b", null), provisioner.capacityAskedFor);
        assertEquals(List.of(Map.of("engine", "dir"), Map.of()), provisioner.capacityParameters);
    }

    @Test
    void theMaximumVolumeSizeIsNoMoreThanWhatIsFree() {
        provisioner.capacities.put("node-a", new Capacity(2 << 20, 8 << 20, 0));

        GetCapacityResponse r = call(service::getCapacity, GetCapacityRequest.newBuilder()
                .setAccessibleTopology(on("node-a")).build());

        assertEquals(2 << 20, r.getAvailableCapacity());
        assertEquals(2 << 20, r.getMaximumVolumeSize().getValue());
    }

    @Test
    void aSegmentWithoutTheNodeKeyHasNoCapacityAndTheProvisionerIsNotAsked() {
        provisioner.capacities.put(null, new Capacity(9 << 20, 3 << 20, 0));

        GetCapacityResponse r = call(service::getCapacity, GetCapacityRequest.newBuilder()
                .setAccessibleTopology(zone("z1")).build());

        assertEquals(0, r.getAvailableCapacity());
        assertTrue(provisioner.capacityAskedFor.isEmpty(), "asked for " + provisioner.capacityAskedFor);
    }

    @Test
    void anEngineTheNodesCannotRunHasNoCapacityButAnUnknownEngineIsAnError() {
        provisioner.capacities.put(null, new Capacity(9 << 20, 3 << 20, 0));
        provisioner.engineFailure = CsiException.resourceExhausted("no node can run the thin engine");

        assertEquals(0, call(service::getCapacity, GetCapacityRequest.newBuilder()
                .putParameters("engine", "thin").build()).getAvailableCapacity());

        provisioner.engineFailure = CsiException.invalidArgument("parameters.engine", "unknown engine \"zfs\"");
        assertCsi(Status.Code.INVALID_ARGUMENT, "parameters.engine", () -> call(service::getCapacity,
                GetCapacityRequest.newBuilder().putParameters("engine", "zfs").build()));
        assertTrue(provisioner.capacityAskedFor.isEmpty());
    }

    @Test
    void anAccessTypeTheEngineLacksHasNoCapacity() {
        provisioner.capacities.put(null, new Capacity(9 << 20, 3 << 20, 0));
        provisioner.traits = traits(Set.of(AccessType.MOUNT), Set.of());

        GetCapacityResponse block = call(service::getCapacity, GetCapacityRequest.newBuilder()
                .addVolumeCapabilities(block()).build());
        GetCapacityResponse mount = call(service::getCapacity, GetCapacityRequest.newBuilder()
                .addVolumeCapabilities(VolumeCapability.newBuilder().setMount(VolumeCapability.MountVolume
                        .getDefaultInstance()).setAccessMode(writer())).build());

        assertEquals(0, block.getAvailableCapacity());
        assertEquals(9 << 20, mount.getAvailableCapacity());
    }

    // ---- modify ---------------------------------------------------------------------------------

    @Test
    void modifyNeedsAnExistingVolumeAndAnEmptyMapChangesNothing() {
        String id = Ids.volumeId("pvc-mod");
        assertCsi(Status.Code.NOT_FOUND, () -> call(service::controllerModifyVolume, ControllerModifyVolumeRequest
                .newBuilder().setVolumeId(id).putMutableParameters("mode", "0750").build()));
        provisioner.volumes.put(id, new VolumeRecord(id, "pvc-mod", "dir", 1 << 20, AccessType.MOUNT, Map.of(),
                Map.of(), null, "node-a", List.of(), RecordState.READY, Instant.EPOCH, Map.of()));

        call(service::controllerModifyVolume, ControllerModifyVolumeRequest.newBuilder().setVolumeId(id).build());
        assertTrue(provisioner.modified.isEmpty(), "an empty map is not passed on");
        call(service::controllerModifyVolume, ControllerModifyVolumeRequest.newBuilder().setVolumeId(id)
                .putMutableParameters("mode", "0750").build());
        assertEquals(List.of(Map.of("mode", "0750")), provisioner.modified);
    }

    // ---- snapshots ------------------------------------------------------------------------------

    @Test
    void aFailedUploadIsAnsweredOnlyToACallerAlreadyGivenTheSnapshotsId() {
        provisioner.snapshot = snapshotRecord("snap-1", BackupRef.uploading("file:///backups", "b1")
                .failed("INVALID_ARGUMENT", "parameters.backupTarget: not a Strata backup target"));
        String id = provisioner.snapshot.id();

        CreateSnapshotResponse first = call(service::createSnapshot, snapshot("snap-1"));
        assertEquals(id, first.getSnapshot().getSnapshotId(), "the ID comes first: an error carries none");
        assertFalse(first.getSnapshot().getReadyToUse());
        CsiException failure = assertCsi(Status.Code.INVALID_ARGUMENT, () -> call(service::createSnapshot,
                snapshot("snap-1")));
        assertEquals("snapshot " + id + BackupRef.UPLOAD_FAILED + "file:///backups failed, and is tried again: "
                + "parameters.backupTarget: not a Strata backup target", failure.getMessage());

        call(service::deleteSnapshot, DeleteSnapshotRequest.newBuilder().setSnapshotId(id).build());
        assertEquals(List.of(id), provisioner.deletedSnapshots);
        assertEquals(id, call(service::createSnapshot, snapshot("snap-1")).getSnapshot().getSnapshotId(),
                "one of the same name made after the delete is answered afresh");
    }

    @Test
    void aCallerWhoseDeadlineHasPassedIsNotCountedAsGivenTheId() throws Exception {
        provisioner.snapshot = snapshotRecord("snap-2", BackupRef.uploading("file:///backups", "b2")
                .failed("UNAVAILABLE", "the backup target cannot be reached"));
        Context.CancellableContext gone = Context.current().withCancellation();
        gone.cancel(null);
        gone.call(() -> call(service::createSnapshot, snapshot("snap-2")));

        assertFalse(call(service::createSnapshot, snapshot("snap-2")).getSnapshot().getReadyToUse(),
                "the first answer a caller hears carries the ID");
        assertCsi(Status.Code.UNAVAILABLE, () -> call(service::createSnapshot, snapshot("snap-2")));
    }

    @Test
    void aLocalSnapshotAndAnUploadStillRunningAreAnsweredAsTheyAre() {
        provisioner.snapshot = snapshotRecord("snap-3", null);
        assertTrue(call(service::createSnapshot, snapshot("snap-3")).getSnapshot().getReadyToUse());
        provisioner.snapshot = snapshotRecord("snap-4", BackupRef.uploading("file:///backups", "b4"));
        for (int i = 0; i < 2; i++) {
            assertFalse(call(service::createSnapshot, snapshot("snap-4")).getSnapshot().getReadyToUse());
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static Topology on(String node) {
        return Topology.newBuilder().putSegments(KEY, node).build();
    }

    private static Topology zone(String zone) {
        return Topology.newBuilder().putSegments("topology.kubernetes.io/zone", zone).build();
    }

    private static VolumeCapability.AccessMode writer() {
        return VolumeCapability.AccessMode.newBuilder().setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER)
                .build();
    }

    private static VolumeCapability block() {
        return VolumeCapability.newBuilder().setBlock(VolumeCapability.BlockVolume.getDefaultInstance())
                .setAccessMode(writer()).build();
    }

    private static CreateSnapshotRequest snapshot(String name) {
        return CreateSnapshotRequest.newBuilder().setName(name).setSourceVolumeId(Ids.volumeId("pvc-src")).build();
    }

    private static SnapshotRecord snapshotRecord(String name, BackupRef backup) {
        return new SnapshotRecord(Ids.snapshotId(name), name, Ids.volumeId("pvc-src"), "dir", 1 << 20, null,
                RecordState.READY, Instant.EPOCH, backup);
    }

    private static CreateVolumeRequest.Builder volume(String name) {
        return CreateVolumeRequest.newBuilder().setName(name).addVolumeCapabilities(block());
    }

    private static EngineTraits traits(Set<AccessType> types, Set<String> mutableKeys) {
        return new EngineTraits("dir", types, Set.of(AccessMode.SINGLE_NODE_WRITER), Set.of(), Set.of(),
                mutableKeys, false);
    }

    private static Gate<Provisioner> gate(Provisioner p) {
        Gate<Provisioner> g = new Gate<>("the fake provisioner");
        g.open(p);
        return g;
    }

    /** Calls a unary method and returns its one reply, asserting that the call completed. */
    private static <Q, R> R call(BiConsumer<Q, StreamObserver<R>> method, Q request) {
        List<R> replies = new ArrayList<>();
        boolean[] completed = {false};
        method.accept(request, new StreamObserver<>() {
            @Override
            public void onNext(R value) {
                replies.add(value);
            }

            @Override
            public void onError(Throwable t) {
                throw new AssertionError("errors are thrown, not passed to onError", t);
            }

            @Override
            public void onCompleted() {
                completed[0] = true;
            }
        });
        assertEquals(1, replies.size());
        assertTrue(completed[0], "completed");
        return replies.get(0);
    }

    /** Records what the service asks; answers from its fields. */
    private static final class FakeProvisioner implements Provisioner {
        final List<String> nodes;
        final List<VolumeSpec> created = new ArrayList<>();
        final Map<String, Capacity> capacities = new HashMap<>();
        final List<String> capacityAskedFor = new ArrayList<>();
        final List<Map<String, String>> capacityParameters = new ArrayList<>();
        final Map<String, VolumeRecord> volumes = new HashMap<>();
        final List<Map<String, String>> modified = new ArrayList<>();
        EngineTraits traits = traits(Set.of(AccessType.MOUNT, AccessType.BLOCK), Set.of("mode"));
        CsiException engineFailure;
        SnapshotRecord snapshot;
        final List<String> deletedSnapshots = new ArrayList<>();

        FakeProvisioner(List<String> nodes) {
            this.nodes = nodes;
        }

        @Override
        public VolumeRecord createVolume(VolumeSpec spec) {
            created.add(spec);
            String node = spec.nodes().isEmpty() ? nodes.get(0) : spec.nodes().get(0);
            return new VolumeRecord(Ids.volumeId(spec.name()), spec.name(), traits.name(), spec.requiredBytes(),
                    spec.accessType(), spec.parameters(), spec.mutableParameters(), spec.source(), node, List.of(),
                    RecordState.READY, Instant.EPOCH, Map.of());
        }

        @Override
        public Capacity capacity(Map<String, String> parameters, String node) {
            capacityAskedFor.add(node);
            capacityParameters.add(Map.copyOf(parameters));
            return capacities.getOrDefault(node, new Capacity(0, 0, 0));
        }

        @Override
        public EngineTraits engineFor(Map<String, String> parameters) {
            if (engineFailure != null) {
                throw engineFailure;
            }
            return traits;
        }

        @Override
        public List<String> nodes() {
            return nodes;
        }

        @Override
        public Optional<VolumeRecord> findVolume(String volumeId) {
            return Optional.ofNullable(volumes.get(volumeId));
        }

        @Override
        public VolumeRecord modifyVolume(String volumeId, Map<String, String> mutableParameters) {
            modified.add(Map.copyOf(mutableParameters));
            return volumes.get(volumeId).withMutableParameters(mutableParameters);
        }

        @Override
        public void deleteVolume(String volumeId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<VolumeRecord> listVolumes() {
            throw new UnsupportedOperationException();
        }

        @Override
        public VolumeRecord expandVolume(String volumeId, long requiredBytes, long limitBytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public SnapshotRecord createSnapshot(String name, String sourceVolumeId, Map<String, String> parameters,
                Secrets secrets) {
            return snapshot;
        }

        @Override
        public void deleteSnapshot(String snapshotId, Secrets secrets) {
            deletedSnapshots.add(snapshotId);
        }

        @Override
        public Optional<SnapshotRecord> findSnapshot(String snapshotId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<SnapshotRecord> listSnapshots() {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> publishedNodes(String volumeId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public VolumeHealth health(String volumeId) {
            throw new UnsupportedOperationException();
        }
    }
}
