package dev.strata.cli;

import dev.strata.csi.v1.ControllerServiceCapability;
import dev.strata.csi.v1.ControllerUnpublishVolumeRequest;
import dev.strata.csi.v1.NodeServiceCapability;
import dev.strata.csi.v1.NodeUnpublishVolumeRequest;
import dev.strata.csi.v1.NodeUnstageVolumeRequest;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Takes a volume off this node the way kubelet does, from where {@link Placements} says it is: each
 * target unpublished, then, when none is left, the staging undone and the attachment released.
 */
final class Unmounter {
    static final ControllerServiceCapability.RPC.Type CONTROLLER_PUBLISH =
            ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME;
    static final NodeServiceCapability.RPC.Type NODE_STAGE = NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME;

    private final CsiClient client;
    private final Placements placements;

    Unmounter(CsiClient client, Placements placements) {
        this.client = client;
        this.placements = placements;
    }

    void unpublish(String volumeId, String target) throws IOException {
        client.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId)
                .setTargetPath(target).build());
        placements.unpublished(volumeId, target);
    }

    /** When the volume is published nowhere on this node any more: unstages it and detaches it from this node. */
    void releaseIfUnused(String volumeId) throws IOException {
        if (placements.targets(volumeId).isEmpty()) {
            unstage(volumeId);
            if (client.hasController(CONTROLLER_PUBLISH)) {
                detach(volumeId, List.of(client.nodeId()));
            }
        }
    }

    /**
     * Everything, for {@code volume rm --force}: every target on this node, the staging, and the
     * attachment to every node the controller says the volume is published to.
     */
    void releaseAll(String volumeId, List<String> attachedNodes) throws IOException {
        for (String target : placements.targets(volumeId)) {
            unpublish(volumeId, target);
        }
        unstage(volumeId);
        if (client.hasController(CONTROLLER_PUBLISH)) {
            detach(volumeId, attachedNodes);
        }
    }

    private void unstage(String volumeId) throws IOException {
        Optional<Path> staging = placements.stagingPath(volumeId);
        if (staging.isEmpty() || !client.hasNode(NODE_STAGE)) {
            return;
        }
        client.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(volumeId)
                .setStagingTargetPath(staging.get().toString()).build());
        // Like kubelet, stratactl removes the staging directories it made, and only those; never recursively.
        if (staging.get().equals(placements.newStagingDir(volumeId))) {
            try {
                Files.deleteIfExists(staging.get());
            } catch (DirectoryNotEmptyException e) {
                throw new CliException("staging directory " + staging.get() + " is not empty after unstaging; "
                        + "left in place");
            }
        }
    }

    private void detach(String volumeId, List<String> nodes) {
        for (String node : nodes) {
            client.controller().controllerUnpublishVolume(ControllerUnpublishVolumeRequest.newBuilder()
                    .setVolumeId(volumeId).setNodeId(node).build());
        }
    }
}
