package dev.strata.node.iolimit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PodOfTargetTest {
    private static final String UID = "0f8e6c1a-3b2d-4c5e-9f70-1a2b3c4d5e6f";

    @Test
    void aFilesystemTargetNamesItsPod() {
        assertEquals(Optional.of(UID), PodOfTarget.uid(Path.of("/var/lib/kubelet/pods/" + UID
                + "/volumes/kubernetes.io~csi/pvc-1/mount")));
        // kubelet's root directory is configurable: only the layout under it counts.
        assertEquals(Optional.of(UID), PodOfTarget.uid(Path.of("/srv/k/kubelet/pods/" + UID
                + "/volumes/kubernetes.io~csi/pvc-1/mount")));
    }

    @Test
    void aBlockTargetNamesItsPodLast() {
        assertEquals(Optional.of(UID), PodOfTarget.uid(Path.of(
                "/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-1/" + UID)));
    }

    @Test
    void otherTargetsHaveNoPod() {
        assertEquals(Optional.empty(), PodOfTarget.uid(Path.of("/tmp/csi-sanity/target")));
        assertEquals(Optional.empty(), PodOfTarget.uid(Path.of("/mnt/data")));
        // Not a UID: nothing that could step out of the cgroup tree is taken for one.
        assertEquals(Optional.empty(), PodOfTarget.uid(Path.of("/var/lib/kubelet/pods/../volumes/x/mount")));
        assertEquals(Optional.empty(), PodOfTarget.uid(Path.of("/var/lib/kubelet/pods/*/volumes/x/mount")));
    }
}
