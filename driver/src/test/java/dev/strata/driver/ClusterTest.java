package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.api.v1alpha1.EngineCapacity;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.common.BuildInfo;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.Ids;
import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.ControllerExpandVolumeRequest;
import dev.strata.csi.v1.ControllerGetCapabilitiesRequest;
import dev.strata.csi.v1.ControllerGetVolumeRequest;
import dev.strata.csi.v1.ControllerModifyVolumeRequest;
import dev.strata.csi.v1.ControllerServiceCapability;
import dev.strata.csi.v1.ControllerUnpublishVolumeRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.GetCapacityRequest;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.ListVolumesRequest;
import dev.strata.csi.v1.NodeGetInfoRequest;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.Topology;
import dev.strata.csi.v1.TopologyRequirement;
import dev.strata.csi.v1.Volume;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The controller plugin and two node plugins working through the API server (fabric8's mock server),
 * with real engines underneath: placement by topology and capacity, deletion behind finalizers,
 * snapshots and restores on the source's node, expansion, capacity per node, each node touching only
 * its own resources, and a controller restarted in the middle of CreateVolume.
 */
class ClusterTest {
    @RegisterExtension
    final ClusterHarness cluster = new ClusterHarness();

    static Topology on(String node) {
        return Topology.newBuilder().putSegments(BuildInfo.TOPOLOGY_KEY, node).build();
    }

    static CreateVolumeRequest.Builder volumeOn(String name, String node) {
        return Csi.createVolume(name)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(64L << 20))
                .setAccessibilityRequirements(TopologyRequirement.newBuilder().addRequisite(on(node))
                        .addPreferred(on(node)));
    }

    private void startAll() throws Exception {
        cluster.startNode("node-a");
        cluster.startNode("node-b");
        cluster.startController();
    }

    @Test
    void createVolumeMakesItOnThePreferredNodeOnly() throws Exception {
        startAll();
        Volume v = cluster.controller().createVolume(volumeOn("pvc-1", "node-b").build()).getVolume();
        assertEquals(Ids.volumeId("pvc-1"), v.getVolumeId());
        assertEquals(List.of(on("node-b")), v.getAccessibleTopologyList());
        assertEquals(64L << 20, v.getCapacityBytes());

        StrataVolume resource = cluster.api().resources(StrataVolume.class).withName(v.getVolumeId()).get();
        assertEquals("node-b", resource.getSpec().getNode());
        assertEquals("node-b", resource.getMetadata().getLabels().get(Resources.NODE_LABEL));
        assertEquals(Resources.READY, resource.getStatus().getPhase());
        assertTrue(resource.getMetadata().getFinalizers().contains(Resources.FINALIZER));
        assertEquals(List.of(v.getVolumeId()), cluster.volumesOn("node-b"));
        assertEquals(List.of(), cluster.volumesOn("node-a"));

        // A retry (the sidecar's, or after a restart) finds the same volume: still one resource.
        assertEquals(v, cluster.controller().createVolume(volumeOn("pvc-1", "node-b").build()).getVolume());
        assertEquals(1, cluster.api().resources(StrataVolume.class).list().getItems().size());
        // The same name with other parameters is another volume: refused.
        assertCode(Status.Code.ALREADY_EXISTS, () -> cluster.controller().createVolume(volumeOn("pvc-1", "node-b")
                .putParameters("engine", "shared").build()));
    }

    @Test
    void theVolumeIsStagedAndPublishedOnItsNode() throws Exception {
        assumeTrue(Posix.isRoot(), "staging bind-mounts: needs root");
        startAll();
        String id = cluster.controller().createVolume(volumeOn("pvc-mount", "node-a").build()).getVolume()
                .getVolumeId();
        assertEquals("node-a", cluster.node("node-a").nodeGetInfo(NodeGetInfoRequest.getDefaultInstance())
                .getNodeId());
        Path staging = cluster.root().resolve("staging");
        Path target = cluster.root().resolve("pod").resolve("mount");
        cluster.node("node-a").nodeStageVolume(Csi.stage(id, staging));
        // Reported at once (the harness's resync is a minute): ControllerGetVolume names the node.
        awaitPublishedNodes(id, List.of("node-a"));
        cluster.node("node-a").nodePublishVolume(Csi.publish(id, staging, target).build());
        Files.writeString(target.resolve("hello"), "from a pod");
        assertEquals("from a pod", Files.readString(staging.resolve("hello")));

        // In use: the node refuses to delete it, and the controller says why; the deletion stays pending.
        StatusRuntimeException inUse = assertThrows(StatusRuntimeException.class, () -> cluster.controller()
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, inUse.getStatus().getCode(), inUse.getMessage());
        assertNotNull(cluster.api().resources(StrataVolume.class).withName(id).get());

        cluster.node("node-a").nodeUnpublishVolume(Csi.unpublish(id, target));
        cluster.node("node-a").nodeUnstageVolume(Csi.unstage(id, staging));
        // Out of use, the pending deletion finishes on its own; the CO's retry then finds nothing to do.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (cluster.api().resources(StrataVolume.class).withName(id).get() != null) {
            assertTrue(System.nanoTime() < deadline, "the pending deletion finished");
            Thread.sleep(100);
        }
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        assertNull(cluster.api().resources(StrataVolume.class).withName(id).get());
        assertEquals(List.of(), cluster.volumesOn("node-a"));
    }

    /**
     * {@code kubectl delete -k} deletes the CRDs, and with them every StrataVolume: that must not delete
     * data. Only a deletion the controller marks (DeleteVolume) removes storage; any other lets the
     * resource go and keeps the volume on its node.
     */
    @Test
    void aVolumeDeletedWithoutDeleteVolumeKeepsItsStorage() throws Exception {
        startAll();
        String id = cluster.controller().createVolume(volumeOn("pvc-kept", "node-a").build()).getVolume()
                .getVolumeId();
        cluster.api().resources(StrataVolume.class).withName(id).delete();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (cluster.api().resources(StrataVolume.class).withName(id).get() != null) {
            assertTrue(System.nanoTime() < deadline, "the node let the resource go");
            Thread.sleep(100);
        }
        assertEquals(List.of(id), cluster.volumesOn("node-a"));

        // The controller's DeleteVolume marks the resource first: the storage goes with it.
        String doomed = cluster.controller().createVolume(volumeOn("pvc-doomed", "node-a").build()).getVolume()
                .getVolumeId();
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(doomed).build());
        assertNull(cluster.api().resources(StrataVolume.class).withName(doomed).get());
        assertEquals(List.of(id), cluster.volumesOn("node-a"));
    }

    @Test
    void deleteRemovesTheStorageBeforeTheResource() throws Exception {
        startAll();
        String id = cluster.controller().createVolume(volumeOn("pvc-del", "node-a").build()).getVolume()
                .getVolumeId();
        Path dir = cluster.dataDir("node-a").resolve("engines/dir/volumes").resolve(id);
        assertTrue(Files.isDirectory(dir), dir + " exists");
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        assertNull(cluster.api().resources(StrataVolume.class).withName(id).get());
        assertFalse(Files.exists(dir), dir + " is gone");
        assertTrue(cluster.volumeOn("node-a", id).isEmpty());
        // Deleting again, or deleting what never was, succeeds.
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(Csi.UNKNOWN_VOLUME).build());
    }

    @Test
    void aVolumeTheNodeRefusesFailsWithTheNodesCodeAndLeavesNothing() throws Exception {
        startAll();
        // Only the node knows its hostpath roots: the node refuses, the controller answers with its
        // code and message (which names the node's root).
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> cluster.controller()
                .createVolume(volumeOn("pvc-refused", "node-a").putParameters("engine", "hostpath")
                        .putParameters("root", "/etc").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getMessage());
        assertTrue(e.getMessage().contains("parameters.root")
                && e.getMessage().contains(cluster.root().resolve("node-a/host").toString()), e.getMessage());
        // The controller removed the Failed resource and the node let its finalizer go: nothing stays.
        String id = Ids.volumeId("pvc-refused");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (cluster.api().resources(StrataVolume.class).withName(id).get() != null
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertNull(cluster.api().resources(StrataVolume.class).withName(id).get(), "the Failed resource is gone");
        assertTrue(cluster.volumeOn("node-a", id).isEmpty());
        // A retry with a value the node accepts makes the volume, once the controller's informer has
        // seen the failed one go: until then it answers ABORTED (an earlier attempt is leaving), as a
        // CO expects, never ALREADY_EXISTS.
        assertEquals(id, Csi.retryingAborted(() -> cluster.controller().createVolume(volumeOn("pvc-refused", "node-a")
                .build())).getVolume().getVolumeId());
    }

    @Test
    void aNodeThatCannotWriteFailsTheVolumeAsAStandaloneDriverWould() throws Exception {
        assumeTrue(Posix.isRoot(), "chattr +i: needs root");
        startAll();
        // Immutable, the engine's volumes directory refuses even root (EPERM): the node's storage throws
        // an I/O error, no CsiException. The node's status carries what ErrorMapper makes of it, as a
        // standalone driver's CreateVolume answers it, with the file it could not make.
        Path volumes = cluster.dataDir("node-a").resolve("engines/dir/volumes");
        new CommandRunner().run("chattr", "+i", volumes.toString()).check();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> cluster.controller().createVolume(volumeOn("pvc-immutable", "node-a").build()));
            assertEquals(Status.Code.INTERNAL, e.getStatus().getCode(), e.getMessage());
            assertTrue(e.getStatus().getDescription().startsWith("node node-a: I/O error: ")
                    && e.getMessage().contains(volumes + "/") && e.getMessage().endsWith("Operation not permitted"),
                    e.getMessage());
        } finally {
            new CommandRunner().run("chattr", "-i", volumes.toString()).check();
        }
        // Nothing stays, and once the directory takes files again a retry makes the volume.
        String id = Ids.volumeId("pvc-immutable");
        assertTrue(cluster.volumeOn("node-a", id).isEmpty());
        assertEquals(id, Csi.retryingAborted(() -> cluster.controller().createVolume(volumeOn("pvc-immutable",
                "node-a").build())).getVolume().getVolumeId());
    }

    @Test
    void aNodeThatIsDownKeepsItsVolumeUntilItComesBack() throws Exception {
        startAll();
        String id = cluster.controller().createVolume(volumeOn("pvc-held", "node-b").build()).getVolume()
                .getVolumeId();
        cluster.stopNode("node-b");
        // ABORTED a second before the caller's deadline (CI once saw DEADLINE_EXCEEDED with a 3 s one on a busy machine)
        assertCode(Status.Code.ABORTED, () -> cluster.controller().withDeadlineAfter(10, TimeUnit.SECONDS)
                .deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build()));
        StrataVolume held = cluster.api().resources(StrataVolume.class).withName(id).get();
        assertNotNull(held.getMetadata().getDeletionTimestamp(), "deletion is pending");
        assertTrue(Files.isDirectory(cluster.dataDir("node-b").resolve("engines/dir/volumes").resolve(id)));

        cluster.startNode("node-b");
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
        assertNull(cluster.api().resources(StrataVolume.class).withName(id).get());
        assertFalse(Files.exists(cluster.dataDir("node-b").resolve("engines/dir/volumes").resolve(id)));
    }

    @Test
    void snapshotsLiveOnTheSourceNodeAndRestoreThere() throws Exception {
        startAll();
        String source = cluster.controller().createVolume(volumeOn("pvc-src", "node-b").build()).getVolume()
                .getVolumeId();
        Files.writeString(CsiCalls.dirVolumeData(cluster.dataDir("node-b"), "dir", source).resolve("data"), "v1");
        Snapshot snap = cluster.controller().createSnapshot(Csi.snapshot("snap-1", source)).getSnapshot();
        assertTrue(snap.getReadyToUse());
        assertEquals(source, snap.getSourceVolumeId());
        StrataSnapshot resource = cluster.api().resources(StrataSnapshot.class).withName(snap.getSnapshotId()).get();
        assertEquals("node-b", resource.getSpec().getNode());
        assertEquals(List.of(snap), cluster.controller().listSnapshots(ListSnapshotsRequest.getDefaultInstance())
                .getEntriesList().stream().map(e -> e.getSnapshot()).toList());
        assertEquals(snap, cluster.controller().createSnapshot(Csi.snapshot("snap-1", source)).getSnapshot());

        // No topology given: the restore goes where the snapshot is.
        Volume restored = cluster.controller().createVolume(Csi.createVolume("pvc-restored")
                .setVolumeContentSource(Csi.fromSnapshot(snap.getSnapshotId())).build()).getVolume();
        assertEquals(List.of(on("node-b")), restored.getAccessibleTopologyList());
        assertEquals("v1", Files.readString(CsiCalls.dirVolumeData(cluster.dataDir("node-b"), "dir",
                restored.getVolumeId()).resolve("data")));
        // A topology that excludes the snapshot's node cannot be met.
        assertCode(Status.Code.RESOURCE_EXHAUSTED, () -> cluster.controller().createVolume(volumeOn("pvc-elsewhere",
                "node-a").setVolumeContentSource(Csi.fromSnapshot(snap.getSnapshotId())).build()));
        assertCode(Status.Code.NOT_FOUND, () -> cluster.controller().createVolume(Csi.createVolume("pvc-none")
                .setVolumeContentSource(Csi.fromSnapshot(Csi.UNKNOWN_SNAPSHOT)).build()));

        cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snap.getSnapshotId())
                .build());
        assertNull(cluster.api().resources(StrataSnapshot.class).withName(snap.getSnapshotId()).get());
        assertTrue(cluster.snapshotOn("node-b", snap.getSnapshotId()).isEmpty());
    }

    /**
     * The retry of a restore whose snapshot was deleted meanwhile is the request that made the
     * volume: answered with it. The engine was worked out anew from the source, which was gone, so
     * the default engine stood in and the retry was ALREADY_EXISTS.
     */
    @Test
    void aRestoreRetriedAfterItsSnapshotWentIsAnsweredWithTheVolume() throws Exception {
        startAll();
        String source = cluster.controller().createVolume(volumeOn("pvc-shared", "node-a")
                .putParameters("engine", "shared").build()).getVolume().getVolumeId();
        String snap = cluster.controller().createSnapshot(Csi.snapshot("snap-shared", source)).getSnapshot()
                .getSnapshotId();
        var restore = Csi.createVolume("pvc-from-shared").setVolumeContentSource(Csi.fromSnapshot(snap)).build();
        Volume restored = cluster.controller().createVolume(restore).getVolume();
        assertEquals("shared", cluster.api().resources(StrataVolume.class).withName(restored.getVolumeId()).get()
                .getSpec().getEngine(), "a restore takes its snapshot's engine, not the default (dir)");

        cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snap).build());
        assertEquals(restored, cluster.controller().createVolume(restore).getVolume());
    }

    @Test
    void expansionGrowsTheVolumeOnItsNode() throws Exception {
        startAll();
        String id = cluster.controller().createVolume(volumeOn("pvc-grow", "node-a").build()).getVolume()
                .getVolumeId();
        long grown = cluster.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(id).setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(256L << 20)).build())
                .getCapacityBytes();
        assertEquals(256L << 20, grown);
        assertEquals(256L << 20, cluster.volumeOn("node-a", id).orElseThrow().get("capacityBytes").asLong());
        assertEquals(256L << 20, cluster.api().resources(StrataVolume.class).withName(id).get().getStatus()
                .getCapacityBytes());
        assertEquals(256L << 20, cluster.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                .setVolumeId(id).build()).getVolume().getCapacityBytes());
        assertCode(Status.Code.NOT_FOUND, () -> cluster.controller().controllerExpandVolume(
                ControllerExpandVolumeRequest.newBuilder().setVolumeId(Csi.UNKNOWN_VOLUME)
                        .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(1 << 20)).build()));
    }

    @Test
    void modifyAppliesMutableParametersOnTheNodeAndARefusedValueIsUndone() throws Exception {
        startAll();
        String id = cluster.controller().createVolume(volumeOn("pvc-mod", "node-a").build()).getVolume()
                .getVolumeId();
        cluster.controller().controllerModifyVolume(ControllerModifyVolumeRequest.newBuilder().setVolumeId(id)
                .putMutableParameters("mode", "0750").build());
        assertEquals("0750", cluster.volumeOn("node-a", id).orElseThrow().get("mutableParameters").get("mode").asText());
        assertCode(Status.Code.INVALID_ARGUMENT, () -> cluster.controller().controllerModifyVolume(
                ControllerModifyVolumeRequest.newBuilder().setVolumeId(id).putMutableParameters("mode", "999").build()));
        assertEquals("0750", cluster.api().resources(StrataVolume.class).withName(id).get().getSpec()
                .getMutableParameters().get("mode"), "the refused value is taken back out of the spec");
        assertEquals("0750", cluster.volumeOn("node-a", id).orElseThrow().get("mutableParameters").get("mode").asText());
        assertCode(Status.Code.INVALID_ARGUMENT, () -> cluster.controller().controllerModifyVolume(
                ControllerModifyVolumeRequest.newBuilder().setVolumeId(id).putMutableParameters("size", "1").build()));
    }

    @Test
    void capacityIsWhatEachNodeReports() throws Exception {
        startAll();
        for (String node : List.of("node-a", "node-b")) {
            StrataNode reported = cluster.api().resources(StrataNode.class).withName(node).get();
            EngineCapacity dir = reported.getStatus().getEngines().stream().filter(e -> e.getName().equals("dir"))
                    .findFirst().orElseThrow();
            assertTrue(dir.getAllocatableBytes() > 0, node + " reports free space");
            long answered = cluster.controller().getCapacity(GetCapacityRequest.newBuilder()
                    .setAccessibleTopology(on(node)).putParameters("engine", "dir").build()).getAvailableCapacity();
            assertEquals(dir.getAllocatableBytes(), answered, node);
            assertEquals(BuildInfo.VERSION, reported.getStatus().getPluginVersion());
            assertTrue(reported.getStatus().isHealthy());
        }
        assertEquals(0, cluster.controller().getCapacity(GetCapacityRequest.newBuilder()
                .setAccessibleTopology(on("node-z")).build()).getAvailableCapacity());
        // More than a node has: refused before anything is made.
        assertCode(Status.Code.RESOURCE_EXHAUSTED, () -> cluster.controller().createVolume(volumeOn("pvc-huge",
                "node-a").setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(1L << 60)).build()));
        assertTrue(cluster.api().resources(StrataVolume.class).list().getItems().isEmpty());
        // No attaching in a cluster: the CSIDriver says attachRequired false.
        assertFalse(cluster.controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().stream().anyMatch(c -> c.getRpc().getType()
                        == ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME));
        // Not advertised, so the spec's answer to a CO that calls anyway: UNIMPLEMENTED, naming the call.
        StatusRuntimeException unimplemented = assertThrows(StatusRuntimeException.class, () -> cluster.controller()
                .controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder().setVolumeId("vol-x")
                        .setNodeId("node-a").build()));
        assertEquals(Status.Code.UNIMPLEMENTED, unimplemented.getStatus().getCode());
        assertTrue(unimplemented.getStatus().getDescription().startsWith("ControllerUnpublishVolume:"),
                unimplemented.getStatus().getDescription());
    }

    /**
     * A node whose kernel has no device-mapper reports the thin engine unavailable: GetCapacity answers
     * 0 for it (on the real cluster GetCapacity failed, so csi-provisioner published no
     * CSIStorageCapacity for the thin classes at all) and CreateVolume fails with the node's reason.
     */
    @Test
    void anEngineNoNodeCanRunHasNoCapacityAndSaysWhy() throws Exception {
        startAll();
        StrataNode c = new StrataNode();
        c.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("node-c").build());
        c.setSpec(new dev.strata.api.v1alpha1.StrataNodeSpec());
        c.getSpec().setTopology(java.util.Map.of(BuildInfo.TOPOLOGY_KEY, "node-c"));
        cluster.api().resource(c).create();
        dev.strata.api.v1alpha1.ResourceWrites.status(cluster.api(), StrataNode.class, "node-c", n -> {
            n.setStatus(new dev.strata.api.v1alpha1.StrataNodeStatus());
            n.getStatus().setHealthy(true);
            n.getStatus().setUnavailableEngines(java.util.Map.of("thin", "this kernel has no device-mapper"));
            return n;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        StatusRuntimeException refused;
        do {
            refused = assertThrows(StatusRuntimeException.class, () -> cluster.controller().createVolume(
                    volumeOn("pvc-thin", "node-c").putParameters("engine", "thin").build()));
        } while (refused.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED && System.nanoTime() < deadline);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode(), refused.getMessage());
        assertTrue(refused.getMessage().contains("node-c: this kernel has no device-mapper"), refused.getMessage());
        assertEquals(0, cluster.controller().getCapacity(GetCapacityRequest.newBuilder()
                .setAccessibleTopology(on("node-c")).putParameters("engine", "thin").build()).getAvailableCapacity());
        assertEquals(0, cluster.controller().getCapacity(GetCapacityRequest.newBuilder()
                .putParameters("engine", "thin").build()).getAvailableCapacity());
        assertCode(Status.Code.INVALID_ARGUMENT, () -> cluster.controller().getCapacity(GetCapacityRequest
                .newBuilder().putParameters("engine", "nosuch").build()));
        assertTrue(cluster.api().resources(StrataVolume.class).list().getItems().isEmpty());
    }

    @Test
    void eachNodeTouchesOnlyItsOwnResources() throws Exception {
        startAll();
        for (int i = 0; i < 4; i++) {
            cluster.controller().createVolume(volumeOn("pvc-" + i, i % 2 == 0 ? "node-a" : "node-b").build());
        }
        assertEquals(List.of(Ids.volumeId("pvc-0"), Ids.volumeId("pvc-2")).stream().sorted().toList(),
                cluster.volumesOn("node-a"));
        assertEquals(List.of(Ids.volumeId("pvc-1"), Ids.volumeId("pvc-3")).stream().sorted().toList(),
                cluster.volumesOn("node-b"));
        assertEquals(4, cluster.controller().listVolumes(ListVolumesRequest.getDefaultInstance()).getEntriesCount());
        // node-a's plugin is gone: node-b's volumes are still deleted, node-a's wait for it.
        cluster.stopNode("node-a");
        cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(Ids.volumeId("pvc-1")).build());
        assertNull(cluster.api().resources(StrataVolume.class).withName(Ids.volumeId("pvc-1")).get());
        assertCode(Status.Code.ABORTED, () -> cluster.controller().withDeadlineAfter(3, TimeUnit.SECONDS)
                .deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(Ids.volumeId("pvc-0")).build()));
    }

    @Test
    void aControllerRestartedDuringCreateVolumeMakesOneVolume() throws Exception {
        startAll();
        cluster.stopNode("node-b"); // its StrataNode stays: the controller places volumes there
        assertCode(Status.Code.ABORTED, () -> cluster.controller().withDeadlineAfter(3, TimeUnit.SECONDS)
                .createVolume(volumeOn("pvc-restart", "node-b").build()));
        cluster.stopController();
        assertEquals(1, cluster.api().resources(StrataVolume.class).list().getItems().size());

        cluster.startController();
        cluster.startNode("node-b");
        Volume v = cluster.controller().createVolume(volumeOn("pvc-restart", "node-b").build()).getVolume();
        assertEquals(Ids.volumeId("pvc-restart"), v.getVolumeId());
        assertEquals(1, cluster.api().resources(StrataVolume.class).list().getItems().size());
        assertEquals(List.of(v.getVolumeId()), cluster.volumesOn("node-b"));
        try (var dirs = Files.list(cluster.dataDir("node-b").resolve("engines/dir/volumes"))) {
            assertEquals(1, dirs.count(), "one volume directory");
        }
    }

    private void awaitPublishedNodes(String id, List<String> nodes) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> seen;
        do {
            seen = cluster.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder().setVolumeId(id)
                    .build()).getStatus().getPublishedNodeIdsList();
            if (seen.equals(nodes)) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        assertEquals(nodes, seen, "ControllerGetVolume's published nodes");
    }

    static StatusRuntimeException assertCode(Status.Code code, org.junit.jupiter.api.function.Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getMessage());
        return e;
    }
}
