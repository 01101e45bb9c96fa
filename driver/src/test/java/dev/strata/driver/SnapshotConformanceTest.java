package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.Volume;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SnapshotConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void createReturnsAReadySnapshot() {
        Volume v = csi.createVolume("pvc-1");
        Snapshot s = csi.createSnapshot("snap-1", v.getVolumeId());
        assertTrue(s.getReadyToUse(), "not ready_to_use");
        assertEquals(v.getVolumeId(), s.getSourceVolumeId());
        assertEquals(v.getCapacityBytes(), s.getSizeBytes());
        assertTrue(s.hasCreationTime() && s.getCreationTime().getSeconds() > 0, "creation_time: " + s);
        assertEquals("", s.getGroupSnapshotId());
        assertTrue(Files.isDirectory(csi.snapshotDir(s.getSnapshotId())), "no directory for the snapshot");
    }

    @Test
    void createIsIdempotentByName() {
        String volumeId = csi.createVolume("pvc-1").getVolumeId();
        Snapshot first = csi.createSnapshot("snap-1", volumeId);
        assertEquals(first, csi.createSnapshot("snap-1", volumeId));
        assertEquals(List.of(first.getSnapshotId()), CsiCalls.names(csi.snapshotsDir()));
    }

    @Test
    void sameNameForAnotherVolumeAlreadyExists() {
        csi.createSnapshot("snap-1", csi.createVolume("pvc-1").getVolumeId());
        String other = csi.createVolume("pvc-2").getVolumeId();
        assertStatus(Code.ALREADY_EXISTS, "name", () -> csi.createSnapshot("snap-1", other));
    }

    @Test
    void snapshotOfAnUnknownVolumeIsNotFound() {
        assertStatus(Code.NOT_FOUND, "source_volume_id", () -> csi.createSnapshot("snap-1", Csi.UNKNOWN_VOLUME));
        assertEquals(List.of(), CsiCalls.names(csi.snapshotsDir()));
    }

    @Test
    void createNeedsANameAndASource() {
        String volumeId = csi.createVolume("pvc-1").getVolumeId();
        assertStatus(Code.INVALID_ARGUMENT, "name", () -> csi.createSnapshot("", volumeId));
        assertStatus(Code.INVALID_ARGUMENT, "source_volume_id", () -> csi.createSnapshot("snap-1", ""));
    }

    @Test
    void listFiltersBySnapshotId() {
        String volumeId = csi.createVolume("pvc-1").getVolumeId();
        Snapshot s1 = csi.createSnapshot("snap-1", volumeId);
        csi.createSnapshot("snap-2", volumeId);
        assertEquals(List.of(s1), csi.listSnapshots(ListSnapshotsRequest.newBuilder()
                .setSnapshotId(s1.getSnapshotId()).build()));
    }

    @Test
    void listOfAnUnknownSnapshotIdIsEmpty() {
        csi.createSnapshot("snap-1", csi.createVolume("pvc-1").getVolumeId());
        ListSnapshotsResponse r = csi.controller().listSnapshots(ListSnapshotsRequest.newBuilder()
                .setSnapshotId(Csi.UNKNOWN_SNAPSHOT).build());
        assertEquals(0, r.getEntriesCount());
    }

    @Test
    void listFiltersBySourceVolume() {
        String v1 = csi.createVolume("pvc-1").getVolumeId();
        String v2 = csi.createVolume("pvc-2").getVolumeId();
        Snapshot a = csi.createSnapshot("snap-a", v1);
        Snapshot b = csi.createSnapshot("snap-b", v1);
        csi.createSnapshot("snap-c", v2);
        List<Snapshot> ofV1 = csi.listSnapshots(ListSnapshotsRequest.newBuilder().setSourceVolumeId(v1).build());
        assertEquals(Set.of(a, b), new HashSet<>(ofV1));
    }

    @Test
    void listPagesSeeEverySnapshotExactlyOnce() {
        String volumeId = csi.createVolume("pvc-1").getVolumeId();
        Set<String> created = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            created.add(csi.createSnapshot("snap-" + i, volumeId).getSnapshotId());
        }
        List<String> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            ListSnapshotsResponse page = csi.controller().listSnapshots(ListSnapshotsRequest.newBuilder()
                    .setMaxEntries(2).setStartingToken(token).build());
            page.getEntriesList().forEach(e -> seen.add(e.getSnapshot().getSnapshotId()));
            token = page.getNextToken();
            pages++;
        } while (!token.isEmpty() && pages < 10);
        assertEquals(3, pages);
        assertEquals(5, seen.size(), "seen: " + seen);
        assertEquals(created, new HashSet<>(seen));
    }

    @Test
    void listWithATokenThePluginDidNotIssueIsAborted() {
        assertStatus(Code.ABORTED, "starting_token", () -> csi.controller().listSnapshots(
                ListSnapshotsRequest.newBuilder().setStartingToken("invalid-token").build()));
    }

    @Test
    void listWithNegativeMaxEntriesIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "max_entries", () -> csi.controller().listSnapshots(
                ListSnapshotsRequest.newBuilder().setMaxEntries(-1).build()));
    }

    @Test
    void deleteIsIdempotent() {
        Snapshot s = csi.createSnapshot("snap-1", csi.createVolume("pvc-1").getVolumeId());
        csi.deleteSnapshot(s.getSnapshotId());
        csi.deleteSnapshot(s.getSnapshotId());
        csi.deleteSnapshot(Csi.UNKNOWN_SNAPSHOT);
        assertEquals(List.of(), csi.listSnapshotIds());
        assertFalse(Files.exists(csi.snapshotDir(s.getSnapshotId())), "snapshot directory is still there");
    }

    @Test
    void deleteOfAMalformedIdIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "snapshot_id", () -> csi.deleteSnapshot("../volumes"));
    }

    @Test
    void aSnapshotIsAFrozenCopy() throws IOException {
        String volumeId = csi.createVolume("pvc-1").getVolumeId();
        Files.writeString(csi.volumeDir(volumeId).resolve("a.txt"), "before");
        Snapshot s = csi.createSnapshot("snap-1", volumeId);
        Files.writeString(csi.volumeDir(volumeId).resolve("a.txt"), "after");
        Files.writeString(csi.volumeDir(volumeId).resolve("b.txt"), "new");

        String restored = csi.controller().createVolume(Csi.createVolume("pvc-restored")
                .setVolumeContentSource(Csi.fromSnapshot(s.getSnapshotId())).build()).getVolume().getVolumeId();
        assertEquals("before", Files.readString(csi.volumeDir(restored).resolve("a.txt")));
        assertFalse(Files.exists(csi.volumeDir(restored).resolve("b.txt")), "a file written after the snapshot");
        assertEquals("after", Files.readString(csi.volumeDir(volumeId).resolve("a.txt")));
    }

    @Test
    void aSnapshotOutlivesItsSourceVolume() throws IOException {
        String volumeId = csi.createVolume("pvc-1").getVolumeId();
        Files.writeString(csi.volumeDir(volumeId).resolve("a.txt"), "kept");
        Snapshot s = csi.createSnapshot("snap-1", volumeId);
        csi.deleteVolume(volumeId);
        String restored = csi.controller().createVolume(Csi.createVolume("pvc-restored")
                .setVolumeContentSource(Csi.fromSnapshot(s.getSnapshotId())).build()).getVolume().getVolumeId();
        assertEquals("kept", Files.readString(csi.volumeDir(restored).resolve("a.txt")));
    }
}
