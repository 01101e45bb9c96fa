package dev.strata.cli;

import dev.strata.common.StageSecrets;
import dev.strata.csi.v1.ControllerPublishVolumeRequest;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.Volume;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stratactl mount|umount}: the calls kubelet makes to bring a volume to a pod and back, driven by
 * the plugin's capabilities. Where a volume is staged and published comes from {@link Placements}: the
 * driver's own records for Strata, else stratactl's, under its state directory (/run/stratactl, or
 * $STRATACTL_STATE_DIR), where new staging directories go too.
 */
final class MountCommands {
    private MountCommands() {}

    /** kubelet hands drivers absolute, clean paths. */
    static Path absolute(Path target) {
        return target.toAbsolutePath().normalize();
    }

    @Command(name = "mount", description = {"Mount a volume at TARGET as kubelet would",
            "ControllerPublishVolume and NodeStageVolume when the plugin has them, then NodePublishVolume.",
            "TARGET's parent must exist; the driver creates TARGET."})
    static final class Mount extends CsiCommand {
        @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume name or ID")
        String volume;

        @Parameters(index = "1", paramLabel = "TARGET", description = "Where to mount it")
        Path target;

        @Option(names = "--ro", description = "Publish read-only")
        boolean readOnly;

        @Option(names = "--access-mode", paramLabel = "MODE", defaultValue = AccessModes.DEFAULT,
                converter = AccessModes.Converter.class, completionCandidates = AccessModes.Candidates.class,
                description = "One of: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
        Mode accessMode;

        @Option(names = "--key-file", paramLabel = "FILE", description = {"The key of an encrypted volume: the "
                + "file's content, less one final newline", "(the secret's encryptionKey in a cluster)"})
        Path keyFile;

        @Override
        protected int run(CsiClient client) throws IOException {
            Map<String, String> secrets = keyFile == null ? Map.of()
                    : Map.of(StageSecrets.ENCRYPTION_KEY, readKey(keyFile));
            Path path = absolute(target);
            if (path.getParent() == null || !Files.isDirectory(path.getParent())) {
                throw new CliException("parent directory of " + path + " does not exist");
            }
            Volume v = new NameResolver(client).volume(volume).getVolume();
            VolumeCapability cap = AccessModes.capability(accessMode, false);
            try (Placements placements = Placements.open(client, root().stateDir())) {
                // Repeated for a second target on purpose: both calls are idempotent in CSI, and the
                // publish_context NodePublishVolume needs is only known from ControllerPublishVolume.
                Map<String, String> publishContext = client.hasController(Unmounter.CONTROLLER_PUBLISH)
                        ? controllerPublish(client, v, cap) : Map.of();
                String staging = "";
                if (client.hasNode(Unmounter.NODE_STAGE)) {
                    // Where it is staged already (by this or any other client), else a new directory of ours.
                    Path dir = placements.stagingPath(v.getVolumeId())
                            .orElseGet(() -> placements.newStagingDir(v.getVolumeId()));
                    staging = Files.createDirectories(dir).toString();
                    client.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
                            .putAllPublishContext(publishContext).setStagingTargetPath(staging)
                            .setVolumeCapability(cap).putAllVolumeContext(v.getVolumeContextMap())
                            .putAllSecrets(secrets).build());
                }
                client.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
                        .putAllPublishContext(publishContext).setStagingTargetPath(staging)
                        .setTargetPath(path.toString()).setVolumeCapability(cap).setReadonly(readOnly)
                        .putAllVolumeContext(v.getVolumeContextMap()).build());
                placements.published(v.getVolumeId(), path.toString());
            }
            return OK;
        }

        /** As text (a gRPC secret is a string), so that a key made with echo works as the same key without it. */
        private static String readKey(Path file) throws IOException {
            String key;
            try {
                key = Files.readString(file);
            } catch (java.nio.charset.MalformedInputException e) {
                throw new CliException("--key-file " + file + " is not UTF-8 text");
            }
            return key.endsWith("\n") ? key.substring(0, key.length() - 1) : key;
        }

        /**
         * readonly=false: like the external-attacher, the attachment is read-only only when the PV is;
         * --ro is the pod-level flag and goes to NodePublishVolume.
         */
        private static Map<String, String> controllerPublish(CsiClient client, Volume v, VolumeCapability cap) {
            return client.controller().controllerPublishVolume(ControllerPublishVolumeRequest.newBuilder()
                    .setVolumeId(v.getVolumeId()).setNodeId(client.nodeId()).setVolumeCapability(cap)
                    .setReadonly(false).putAllVolumeContext(v.getVolumeContextMap()).build())
                    .getPublishContextMap();
        }
    }

    @Command(name = "umount", aliases = "unmount", description = {"Unmount a volume from TARGET as kubelet would",
            "NodeUnpublishVolume; when no other target remains, NodeUnstageVolume and",
            "ControllerUnpublishVolume when the plugin has them. Works after any client crashed:",
            "with Strata, where the volume is staged comes from the driver's own records."})
    static final class Umount extends CsiCommand {
        @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume name or ID")
        String volume;

        @Parameters(index = "1", paramLabel = "TARGET", description = "Where it is mounted")
        Path target;

        @Override
        protected int run(CsiClient client) throws IOException {
            String path = absolute(target).toString();
            try (Placements placements = Placements.open(client, root().stateDir())) {
                String id = volumeId(client, placements);
                List<String> targets = placements.targets(id);
                if (!targets.contains(path)) {
                    throw new CliException(volume + " is not mounted at " + path + (targets.isEmpty()
                            ? " (it is not mounted anywhere on this node)"
                            : " (it is mounted at " + String.join(", ", targets) + ")"));
                }
                Unmounter unmounter = new Unmounter(client, placements);
                unmounter.unpublish(id, path);
                unmounter.releaseIfUnused(id);
            }
            return OK;
        }

        /** The volume's ID; one that is no longer listed may still be named by the ID we recorded. */
        private String volumeId(CsiClient client, Placements placements) throws IOException {
            try {
                return new NameResolver(client).volumeId(volume);
            } catch (CliException e) {
                if (!placements.targets(volume).isEmpty()) {
                    return volume;
                }
                throw e;
            }
        }
    }
}
