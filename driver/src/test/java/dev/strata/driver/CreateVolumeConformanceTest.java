package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.Topology;
import dev.strata.csi.v1.TopologyRequirement;
import dev.strata.csi.v1.Volume;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CreateVolumeConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void createsAVolumeOfTheDefaultSizeOnThisNode() {
        Volume v = csi.createVolume("pvc-1");
        assertEquals(CsiHarness.DEFAULT_VOLUME_BYTES, v.getCapacityBytes());
        assertEquals(List.of(Topology.newBuilder().putSegments(Csi.TOPOLOGY_KEY, Csi.NODE_ID).build()),
                v.getAccessibleTopologyList());
        assertTrue(Files.isDirectory(csi.volumeDir(v.getVolumeId())), "no directory for " + v.getVolumeId());
    }

    @Test
    void honoursTheRequiredSize() {
        Volume v = csi.controller().createVolume(Csi.createVolume("pvc-1")
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(5L << 20)).build()).getVolume();
        assertEquals(5L << 20, v.getCapacityBytes());
    }

    @Test
    void isIdempotentByName() {
        Volume first = csi.createVolume("pvc-1");
        Volume second = csi.createVolume("pvc-1");
        assertEquals(first.getVolumeId(), second.getVolumeId());
        assertEquals(List.of(first.getVolumeId()), CsiCalls.names(csi.volumesDir()));
    }

    @Test
    void sameNameWithAnotherSizeAlreadyExists() {
        csi.createVolume("pvc-1");
        assertStatus(Code.ALREADY_EXISTS, "name", () -> csi.controller().createVolume(Csi.createVolume("pvc-1")
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(2 * CsiHarness.DEFAULT_VOLUME_BYTES))
                .build()));
    }

    @Test
    void nameIsRequired() {
        assertStatus(Code.INVALID_ARGUMENT, "name", () -> csi.controller().createVolume(Csi.createVolume("")
                .build()));
    }

    @Test
    void nameWithAControlCharacterIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "name", () -> csi.controller().createVolume(Csi.createVolume("pvc\u0001x")
                .build()));
    }

    @Test
    void nameLongerThan128BytesIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "name", () -> csi.controller().createVolume(
                Csi.createVolume("p".repeat(129)).build()));
        Volume longest = csi.controller().createVolume(Csi.createVolume("p".repeat(128)).build()).getVolume();
        assertEquals("p".repeat(128), longest.getVolumeContextOrThrow("strata.csi.dev/name"));
    }

    @Test
    void capabilitiesAreRequired() {
        assertStatus(Code.INVALID_ARGUMENT, "volume_capabilities", () -> csi.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("pvc-1").build()));
    }

    @Test
    void capabilityNeedsAnAccessType() {
        VolumeCapability noType = Csi.mount().toBuilder().clearMount().build();
        assertStatus(Code.INVALID_ARGUMENT, "volume_capabilities[0].access_type", () -> csi.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("pvc-1").addVolumeCapabilities(noType).build()));
    }

    @Test
    void capabilityNeedsAnAccessMode() {
        VolumeCapability noMode = Csi.mount().toBuilder().clearAccessMode().build();
        assertStatus(Code.INVALID_ARGUMENT, "volume_capabilities[0].access_mode", () -> csi.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("pvc-1").addVolumeCapabilities(noMode).build()));
    }

    @Test
    void requiredAboveLimitIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "capacity_range", () -> csi.controller().createVolume(
                Csi.createVolume("pvc-1").setCapacityRange(CapacityRange.newBuilder()
                        .setRequiredBytes(2 << 20).setLimitBytes(1 << 20)).build()));
    }

    @Test
    void blockAccessIsRefusedByTheDirEngine() {
        assertStatus(Code.INVALID_ARGUMENT, "volume_capabilities", () -> csi.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("pvc-1").addVolumeCapabilities(Csi.block()).build()));
    }

    @Test
    void unknownEngineIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "parameters.engine", () -> csi.controller().createVolume(
                Csi.createVolume("pvc-1").putParameters("engine", "zfs").build()));
    }

    @Test
    void thinWithoutAPoolSaysHowToMakeOne() {
        StatusRuntimeException e = assertStatus(Code.INVALID_ARGUMENT, "parameters.engine", () -> csi.controller()
                .createVolume(Csi.createVolume("pvc-1").putParameters("engine", "thin").build()));
        assertTrue(e.getStatus().getDescription().endsWith("unknown engine \"thin\" (configured: dir, hostpath, "
                + "overlay, shared); the thin engine needs a dm-thin pool: start the driver with --thin-pool-dir DIR "
                + "(or --thin-data DEVICE --thin-metadata DEVICE)"), e.getStatus().getDescription());
    }

    @Test
    void unknownParameterIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "parameters.colour", () -> csi.controller().createVolume(
                Csi.createVolume("pvc-1").putParameters("colour", "blue").build()));
    }

    @Test
    void requisiteTopologyOfAnotherNodeIsExhausted() {
        assertStatus(Code.RESOURCE_EXHAUSTED, () -> csi.controller().createVolume(Csi.createVolume("pvc-1")
                .setAccessibilityRequirements(TopologyRequirement.newBuilder()
                        .addRequisite(Topology.newBuilder().putSegments(Csi.TOPOLOGY_KEY, "other-node")))
                .build()));
    }

    @Test
    void requisiteTopologyOfThisNodeIsServed() {
        Volume v = csi.controller().createVolume(Csi.createVolume("pvc-1")
                .setAccessibilityRequirements(TopologyRequirement.newBuilder()
                        .addRequisite(Topology.newBuilder().putSegments(Csi.TOPOLOGY_KEY, "other-node"))
                        .addRequisite(Topology.newBuilder().putSegments(Csi.TOPOLOGY_KEY, Csi.NODE_ID)))
                .build()).getVolume();
        assertEquals(Csi.NODE_ID, v.getAccessibleTopology(0).getSegmentsOrThrow(Csi.TOPOLOGY_KEY));
    }

    @Test
    void cloneCopiesTheSourceVolume() throws IOException {
        Volume source = csi.createVolume("pvc-src");
        Files.writeString(csi.volumeDir(source.getVolumeId()).resolve("data.txt"), "from the source");
        Volume clone = csi.controller().createVolume(Csi.createVolume("pvc-clone")
                .setVolumeContentSource(Csi.fromVolume(source.getVolumeId())).build()).getVolume();
        assertEquals(Csi.fromVolume(source.getVolumeId()), clone.getContentSource());
        assertEquals("from the source", Files.readString(csi.volumeDir(clone.getVolumeId()).resolve("data.txt")));
    }

    @Test
    void restoreCopiesTheSnapshot() throws IOException {
        Volume source = csi.createVolume("pvc-src");
        Files.writeString(csi.volumeDir(source.getVolumeId()).resolve("data.txt"), "in the snapshot");
        String snapshotId = csi.createSnapshot("snap-1", source.getVolumeId()).getSnapshotId();
        Volume restored = csi.controller().createVolume(Csi.createVolume("pvc-restored")
                .setVolumeContentSource(Csi.fromSnapshot(snapshotId)).build()).getVolume();
        assertEquals(Csi.fromSnapshot(snapshotId), restored.getContentSource());
        assertEquals("in the snapshot", Files.readString(csi.volumeDir(restored.getVolumeId()).resolve("data.txt")));
    }

    @Test
    void missingSourceVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, "volume_content_source", () -> csi.controller().createVolume(
                Csi.createVolume("pvc-1").setVolumeContentSource(Csi.fromVolume(Csi.UNKNOWN_VOLUME)).build()));
    }

    @Test
    void missingSourceSnapshotIsNotFound() {
        assertStatus(Code.NOT_FOUND, "volume_content_source", () -> csi.controller().createVolume(
                Csi.createVolume("pvc-1").setVolumeContentSource(Csi.fromSnapshot(Csi.UNKNOWN_SNAPSHOT)).build()));
    }

    static Stream<Arguments> rejected() {
        Topology otherNode = Topology.newBuilder().putSegments(Csi.TOPOLOGY_KEY, "other-node").build();
        return Stream.of(
                Arguments.of("block access", Code.INVALID_ARGUMENT,
                        Csi.createVolume("pvc-bad").clearVolumeCapabilities().addVolumeCapabilities(Csi.block())),
                Arguments.of("unknown parameter", Code.INVALID_ARGUMENT,
                        Csi.createVolume("pvc-bad").putParameters("colour", "blue")),
                Arguments.of("bad mode", Code.INVALID_ARGUMENT,
                        Csi.createVolume("pvc-bad").putParameters("mode", "0999")),
                Arguments.of("bad mutable mode", Code.INVALID_ARGUMENT,
                        Csi.createVolume("pvc-bad").putMutableParams("mode", "rwx")),
                Arguments.of("other node", Code.RESOURCE_EXHAUSTED, Csi.createVolume("pvc-bad")
                        .setAccessibilityRequirements(TopologyRequirement.newBuilder().addRequisite(otherNode))),
                Arguments.of("missing source", Code.NOT_FOUND,
                        Csi.createVolume("pvc-bad").setVolumeContentSource(Csi.fromVolume(Csi.UNKNOWN_VOLUME))),
                Arguments.of("same name, bigger", Code.ALREADY_EXISTS, Csi.createVolume("pvc-existing")
                        .setCapacityRange(CapacityRange.newBuilder()
                                .setRequiredBytes(4 * CsiHarness.DEFAULT_VOLUME_BYTES))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void aRejectedRequestChangesNothingOnDisk(String what, Code code, CreateVolumeRequest.Builder request) {
        csi.createVolume("pvc-existing");
        List<String> volumesBefore = CsiCalls.names(csi.volumesDir());
        List<String> recordsBefore = CsiCalls.names(csi.recordsDir("volumes"));

        assertStatus(code, () -> csi.controller().createVolume(request.build()));

        assertEquals(volumesBefore, CsiCalls.names(csi.volumesDir()));
        assertEquals(recordsBefore, CsiCalls.names(csi.recordsDir("volumes")));
    }
}
