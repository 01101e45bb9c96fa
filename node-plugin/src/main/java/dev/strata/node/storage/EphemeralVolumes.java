package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.Quantities;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Ids;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.overlay.OverlayEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Ephemeral inline volumes (CSIDriver {@code volumeLifecycleModes: Ephemeral}): Docker's "the data
 * lives and dies with the container". Kubelet sends no CreateVolume: NodePublish with
 * {@code csi.storage.k8s.io/ephemeral=true} makes a scratch volume (overlay, unless the attributes
 * name another engine) named after kubelet's volume ID,
 * stages it under the data directory and publishes it; NodeUnpublish undoes all three. Every step is
 * the ordinary, recorded one, so a crash in between is finished by kubelet's retry or undone at
 * NodeUnpublish.
 */
public final class EphemeralVolumes {
    public static final String CONTEXT_KEY = "csi.storage.k8s.io/ephemeral";
    /** volume_context keys kubelet adds about the pod; not parameters of the volume. */
    private static final String KUBERNETES_PREFIX = "csi.storage.k8s.io/";
    private static final String SIZE = "size";
    private static final String NAME_PREFIX = "ephemeral:";

    private final LocalStorage storage;
    private final NodeVolumes node;

    public EphemeralVolumes(LocalStorage storage, NodeVolumes node) {
        this.storage = storage;
        this.node = node;
    }

    public static boolean requested(Map<String, String> volumeContext) {
        return "true".equals(volumeContext.get(CONTEXT_KEY));
    }

    public static boolean isEphemeral(VolumeRecord volume) {
        return volume.name().startsWith(NAME_PREFIX);
    }

    /** The scratch volume behind kubelet's ID for an inline volume, if there is one. */
    public Optional<VolumeRecord> find(String kubeletVolumeId) {
        return storage.findVolume(Ids.volumeId(NAME_PREFIX + kubeletVolumeId));
    }

    /**
     * Creates (or finds) the scratch volume and publishes it at {@code target}. The volume's
     * attributes are its parameters: {@code size} (a Kubernetes quantity, default: the node's
     * default size), {@code engine}, and the engine's own.
     */
    public void publish(String kubeletVolumeId, Path target, boolean readOnly, AccessMode mode, List<String> flags,
            Map<String, String> attributes) throws IOException {
        Map<String, String> parameters = new HashMap<>();
        attributes.forEach((k, v) -> {
            if (!k.startsWith(KUBERNETES_PREFIX) && !k.equals(SIZE)) {
                parameters.put(k, v);
            }
        });
        // Scratch space is what overlay volumes are for: cheap to make, and gone without a trace.
        if (!parameters.containsKey(LocalStorage.ENGINE_PARAMETER) && storage.hasEngine(OverlayEngine.NAME)) {
            parameters.put(LocalStorage.ENGINE_PARAMETER, OverlayEngine.NAME);
        }
        VolumeRecord volume = storage.createVolume(new VolumeSpec(NAME_PREFIX + kubeletVolumeId,
                size(attributes.get(SIZE)), 0, AccessType.MOUNT, Set.of(mode), parameters, Map.of(), null,
                List.of()));
        try (LockTable.Held held = storage.locks().acquire(LocalStorage.volumeKey(volume.id()))) {
            Path staging = stagingPath(volume);
            node.stage(volume, staging, mode, flags);
            node.publish(volume, staging, target, readOnly, mode, flags);
        }
    }

    /** Unpublishes, unstages and deletes the scratch volume. */
    public void unpublish(VolumeRecord volume, Path target) throws IOException {
        try (LockTable.Held held = storage.locks().acquire(LocalStorage.volumeKey(volume.id()))) {
            node.unpublish(volume, target);
            if (!storage.nodeState().get(volume.id()).publications().isEmpty()) {
                return; // published elsewhere too (kubelet never does this for inline volumes)
            }
            Path staging = stagingPath(volume);
            node.unstage(volume, staging);
            Files.deleteIfExists(staging);
        }
        storage.deleteVolume(volume.id());
    }

    private Path stagingPath(VolumeRecord volume) {
        return storage.config().dataDir().resolve("ephemeral").resolve(volume.id());
    }

    private long size(String text) {
        if (text == null) {
            return 0; // the node's default size
        }
        try {
            return Quantities.parse(text);
        } catch (IllegalArgumentException e) {
            throw CsiException.invalidArgument("volume_context." + SIZE, e.getMessage());
        }
    }
}
