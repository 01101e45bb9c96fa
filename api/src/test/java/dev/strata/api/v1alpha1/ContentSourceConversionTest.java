package dev.strata.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.VolumeSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What the node plugin is asked to make from a StrataVolume's content source: a snapshot on another
 * node (its backup URL set by the controller) is a restore from that backup, while the controller
 * still answers with the snapshot as the volume's source.
 */
class ContentSourceConversionTest {
    private static final String URL = "file:///var/lib/strata-backups#snap-1";

    @Test
    void aSnapshotOnAnotherNodeIsRestoredFromItsBackup() {
        StrataVolumeSpec s = Conversions.volumeSpec(request(Map.of()), "node-a", "dir");
        s.getContentSource().setBackupUrl(URL);

        VolumeSpec asked = Conversions.volumeSpec(s);
        assertNull(asked.source(), "the node has no such snapshot to restore from");
        assertEquals(URL, asked.parameters().get("fromBackup"));
        assertEquals("dir", asked.parameters().get(Conversions.ENGINE_PARAMETER));
        assertEquals(ContentSource.snapshot("snap-1"), Conversions.source(s.getContentSource()),
                "the volume's own account still names the snapshot");
    }

    @Test
    void aLocalSnapshotStaysTheSourceAndBothAtOnceStayBothForTheNodeToRefuse() {
        VolumeSpec local = Conversions.volumeSpec(Conversions.volumeSpec(request(Map.of()), "node-a", "dir"));
        assertEquals(ContentSource.snapshot("snap-1"), local.source());
        assertNull(local.parameters().get("fromBackup"));

        StrataVolumeSpec both = Conversions.volumeSpec(request(Map.of("fromBackup", "file:///other#b")), "node-a",
                "dir");
        both.getContentSource().setBackupUrl(URL);
        VolumeSpec asked = Conversions.volumeSpec(both);
        assertEquals(ContentSource.snapshot("snap-1"), asked.source());
        assertEquals("file:///other#b", asked.parameters().get("fromBackup"), "the class's own value is kept");
    }

    private static VolumeSpec request(Map<String, String> parameters) {
        return new VolumeSpec("pvc-1", 1 << 20, 0, AccessType.MOUNT, Set.of(), parameters, Map.of(),
                ContentSource.snapshot("snap-1"), List.of("node-a"));
    }
}
