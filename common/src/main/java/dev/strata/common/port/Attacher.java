package dev.strata.common.port;

import dev.strata.common.model.AccessMode;
import java.util.Map;

/**
 * ControllerPublish and ControllerUnpublish: a provider that tracks which node a volume is attached
 * to. Standalone hosts do (with a per-node attachment limit); a cluster does not, because its
 * CSIDriver says {@code attachRequired: false}. Same contract as {@link Provisioner}: idempotent, and
 * failures are {@code CsiException}s.
 */
public interface Attacher {
    /** Makes the volume available to a node; returns the publish context. */
    Map<String, String> publishVolume(String volumeId, String nodeId, boolean readOnly, AccessMode mode);

    /** An unknown volume, or a volume not published there, succeeds. */
    void unpublishVolume(String volumeId, String nodeId);
}
