package dev.strata.driver;

import static dev.strata.testkit.CsiAssert.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.ControllerPublishVolumeRequest;
import dev.strata.csi.v1.ListVolumesRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import io.grpc.Status.Code;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ListVolumesConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void pagesSeeEveryVolumeExactlyOnce() {
        Set<String> created = createVolumes(5);
        List<String> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            ListVolumesResponse page = list(token, 2);
            assertTrue(page.getEntriesCount() <= 2, "page of " + page.getEntriesCount() + " entries");
            page.getEntriesList().forEach(e -> seen.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
            pages++;
        } while (!token.isEmpty() && pages < 10);
        assertEquals(3, pages);
        assertEquals(5, seen.size(), "seen: " + seen);
        assertEquals(created, new HashSet<>(seen));
    }

    @Test
    void lastPageHasNoNextToken() {
        createVolumes(2);
        ListVolumesResponse page = list("", 2);
        assertEquals(2, page.getEntriesCount());
        assertEquals("", page.getNextToken());
    }

    @Test
    void tokenOfAVolumeDeletedBetweenPagesStillWorks() {
        Set<String> created = createVolumes(5);
        ListVolumesResponse first = list("", 2);
        List<String> seen = new ArrayList<>(first.getEntriesList().stream().map(e -> e.getVolume().getVolumeId())
                .toList());
        // The token names the last volume of the page; delete exactly that one.
        String deleted = first.getNextToken();
        assertEquals(seen.get(1), deleted);
        csi.deleteVolume(deleted);

        ListVolumesResponse rest = list(deleted, 0);
        rest.getEntriesList().forEach(e -> seen.add(e.getVolume().getVolumeId()));
        assertEquals("", rest.getNextToken());
        assertEquals(5, seen.size(), "seen: " + seen);
        assertEquals(created, new HashSet<>(seen));
    }

    @Test
    void aTokenThePluginDidNotIssueIsAborted() {
        createVolumes(1);
        assertStatus(Code.ABORTED, "starting_token", () -> list("invalid-token", 1));
    }

    @Test
    void negativeMaxEntriesIsRefused() {
        assertStatus(Code.INVALID_ARGUMENT, "max_entries", () -> list("", -1));
    }

    @Test
    void publishedNodesShowAControllerPublish() {
        String id = csi.createVolume("pvc-1").getVolumeId();
        csi.controller().controllerPublishVolume(ControllerPublishVolumeRequest.newBuilder().setVolumeId(id)
                .setNodeId(Csi.NODE_ID).setVolumeCapability(Csi.mount()).build());
        assertEquals(List.of(Csi.NODE_ID), csi.listVolumes().get(0).getStatus().getPublishedNodeIdsList());
    }

    @Test
    void publishedNodesShowAStagedVolume() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mounts");
        String staged = csi.createVolume("pvc-staged").getVolumeId();
        String idle = csi.createVolume("pvc-idle").getVolumeId();
        csi.stage(staged);
        for (ListVolumesResponse.Entry e : csi.listVolumes()) {
            List<String> nodes = e.getStatus().getPublishedNodeIdsList();
            if (e.getVolume().getVolumeId().equals(staged)) {
                assertEquals(List.of(Csi.NODE_ID), nodes);
            } else {
                assertEquals(idle, e.getVolume().getVolumeId());
                assertEquals(List.of(), nodes);
            }
        }
        csi.unstage(staged);
        assertFalse(csi.listVolumes().stream().anyMatch(e -> e.getStatus().getPublishedNodeIdsCount() > 0),
                "a volume is still shown as published after NodeUnstage");
    }

    private Set<String> createVolumes(int n) {
        Set<String> ids = new HashSet<>();
        IntStream.range(0, n).forEach(i -> ids.add(csi.createVolume("pvc-" + i).getVolumeId()));
        return ids;
    }

    private ListVolumesResponse list(String token, int maxEntries) {
        return csi.controller().listVolumes(ListVolumesRequest.newBuilder().setStartingToken(token)
                .setMaxEntries(maxEntries).build());
    }
}
