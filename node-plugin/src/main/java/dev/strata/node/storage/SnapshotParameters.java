package dev.strata.node.storage;

import dev.strata.common.CsiException;
import java.util.Map;

/**
 * Snapshots take no parameters of their own; the csi.storage.k8s.io/ ones are what the CO adds about
 * itself (csi-snapshotter's --extra-create-metadata: the VolumeSnapshot's name and namespace), which the
 * real cluster sent to every CreateSnapshot.
 */
final class SnapshotParameters {
    private SnapshotParameters() {}

    static void refuse(Map<String, String> parameters, String what) {
        parameters.keySet().stream().filter(k -> !k.startsWith(LocalStorage.KUBERNETES_PREFIX)).findFirst()
                .ifPresent(k -> {
                    throw CsiException.invalidArgument("parameters." + k, "unknown " + what
                            + " parameter (none are supported)");
                });
    }
}
