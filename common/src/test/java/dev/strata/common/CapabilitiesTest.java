package dev.strata.common;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.VolumeRecord;
import dev.strata.csi.v1.VolumeCapability;
import io.grpc.Status.Code;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A capability checked against a volume that exists: its type, its mode, and the filesystem it has. */
class CapabilitiesTest {
    private static final EngineTraits THIN = new EngineTraits("thin", Set.of(AccessType.MOUNT, AccessType.BLOCK),
            Set.of(AccessMode.SINGLE_NODE_WRITER), Set.of("", "ext4", "xfs"), Set.of(), Set.of(), true);

    private static VolumeRecord volume(Map<String, String> attributes) {
        return new VolumeRecord("vol-1", "pvc-1", "thin", 1L << 30, AccessType.MOUNT, Map.of(), Map.of(), null,
                "node-1", List.of(), RecordState.READY, Instant.EPOCH, attributes);
    }

    private static VolumeCapability mount(String fsType) {
        return VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.newBuilder().setFsType(fsType))
                .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                        .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER))
                .build();
    }

    @Test
    void aMountNamingAnotherFilesystemThanTheVolumeHasIsRefused() {
        VolumeRecord ext4 = volume(Map.of(Capabilities.FS_TYPE_ATTRIBUTE, "ext4"));
        assertCsi(Code.INVALID_ARGUMENT,
                "volume_capability.mount.fs_type: volume vol-1 has an ext4 filesystem, not xfs",
                () -> Capabilities.checkFor("volume_capability", THIN, ext4, mount("xfs")));
        assertEquals(AccessMode.SINGLE_NODE_WRITER, Capabilities.checkFor("volume_capability", THIN, ext4,
                mount("ext4")));
        assertEquals(AccessMode.SINGLE_NODE_WRITER, Capabilities.checkFor("volume_capability", THIN, ext4, mount("")),
                "no fs_type asks for none in particular");
        // an engine that does not say which filesystem it made: only the engine's own list counts
        assertEquals(AccessMode.SINGLE_NODE_WRITER, Capabilities.checkFor("volume_capability", THIN, volume(Map.of()),
                mount("xfs")));
    }
}
