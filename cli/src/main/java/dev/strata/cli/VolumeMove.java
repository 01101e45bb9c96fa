package dev.strata.cli;

import dev.strata.common.grpc.Endpoint;
import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.Volume;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stratactl volume move}: Flocker's moving data, from one Strata driver to another through a
 * backup target both reach. Each step is a CSI call named after the volume, so a move that failed half
 * way is finished by running the same command again: a remote snapshot {@code move-NAME} of the
 * source, a volume of the same name on the destination filled from it, then the source volume
 * (unless {@code --keep-source}) and last the snapshot with its backup are deleted. A run that finds
 * the source and an earlier attempt's snapshot starts over (the source may have changed since); one
 * that finds only the snapshot finishes by deleting it. A volume of that name on the destination that
 * no attempt of this move made (no {@code move-NAME} snapshot on the source) is refused: it may hold
 * older data than the source.
 */
@Command(name = "move", description = {"Move a volume to another driver through a backup target (Flocker's move)",
        "The destination is another Strata driver's socket: on another host, reach it with ssh -L "
                + "/tmp/b.sock:/run/strata/csi.sock HOST. Prints the volume's ID on the destination."})
final class VolumeMove extends CsiCommand {
    /** The prefix of the remote snapshot a move makes; the rest is the volume's name. */
    static final String SNAPSHOT_PREFIX = "move-";

    @Parameters(paramLabel = "NAME", converter = Names.Converter.class, description = "The volume to move")
    String name;

    @Option(names = "--via", required = true, paramLabel = "TARGET",
            description = "A backup target both drivers reach (file:///DIR, s3://BUCKET/PREFIX?...)")
    String via;

    @Option(names = "--to", required = true, paramLabel = "unix:///PATH",
            description = "The destination driver's CSI socket")
    String to;

    @Option(names = "--param", paramLabel = "KEY=VALUE",
            description = "A StorageClass-style parameter of the volume on the destination")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--access-mode", paramLabel = "MODE", defaultValue = AccessModes.DEFAULT,
            converter = AccessModes.Converter.class, completionCandidates = AccessModes.Candidates.class,
            description = "The volume's access mode on the destination, one of: ${COMPLETION-CANDIDATES} "
                    + "(default: ${DEFAULT-VALUE})")
    Mode accessMode;

    @Option(names = "--keep-source", description = "Copy rather than move: keep the source volume")
    boolean keepSource;

    @Override
    protected int run(CsiClient source) throws Exception {
        Endpoint destination = destination();
        String snapshotName = SNAPSHOT_PREFIX + name;
        try (CsiClient to = CsiClient.connect(destination, root().timeout())) {
            NameResolver here = new NameResolver(source);
            Optional<String> cut = here.findSnapshot(snapshotName);
            Optional<ListVolumesResponse.Entry> there = new NameResolver(to).find(name);
            Optional<ListVolumesResponse.Entry> volume = here.find(name);
            if (volume.isEmpty()) {
                return finishRemoval(source, cut, there);
            }
            if (there.isPresent() && cut.isEmpty()) {
                // Not this move's (it would have cut its snapshot first): an earlier copy, say, now older
                // than the source. Taking it as the move's would lose every write since.
                throw new CliException("move " + name + ": " + destination + " already has a volume named " + name
                        + " that this move did not make; remove it there first");
            }
            String sourceId = volume.get().getVolume().getVolumeId();
            refuseInUse(source, sourceId);
            if (cut.isPresent()) {
                startOver(source, to, cut.get(), there);
            }
            Snapshot snapshot = SnapshotCommands.createStored(source, CreateSnapshotRequest.newBuilder()
                    .setSourceVolumeId(sourceId).setName(snapshotName)
                    .putParameters(SnapshotCommands.BACKUP_TARGET, via).build(), "the move stopped with " + name
                    + " still here: the same command again starts it over");
            String backup = via + "#" + snapshot.getSnapshotId();
            out().println(name + ": stored as " + backup);
            String movedId = VolumeCommands.createRestoring(to, restore(volume.get().getVolume(), backup)).getVolumeId();
            out().println(name + ": restored at " + destination);
            if (!keepSource) {
                source.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(sourceId).build());
                out().println(name + ": removed from " + root().endpoint());
            }
            deleteSnapshot(source, snapshot.getSnapshotId());
            out().println(movedId);
            return OK;
        }
    }

    /**
     * An earlier attempt stopped with the source still there, so the source may have changed since
     * its snapshot (it was usable all along): its copy on the destination and its snapshot go, and the
     * move starts from the source as it is now. Chunks already stored are not sent again.
     */
    private void startOver(CsiClient source, CsiClient to, String snapshotId,
            Optional<ListVolumesResponse.Entry> there) {
        if (there.isPresent()) {
            to.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
                    .setVolumeId(there.get().getVolume().getVolumeId()).build());
        }
        deleteSnapshot(source, snapshotId);
        out().println(name + ": an earlier attempt stopped half way; starting over from the source as it is now");
    }

    /** A move that got as far as removing the source: only its snapshot, and so its backup, is left. */
    private int finishRemoval(CsiClient source, Optional<String> cut, Optional<ListVolumesResponse.Entry> there) {
        if (cut.isEmpty() || there.isEmpty()) {
            throw new CliException("no such volume: " + name);
        }
        out().println(name + ": already at " + to);
        deleteSnapshot(source, cut.get());
        out().println(there.get().getVolume().getVolumeId());
        return OK;
    }

    private void refuseInUse(CsiClient source, String volumeId) throws java.io.IOException {
        try (Placements placements = Placements.open(source, root().stateDir())) {
            // A mounted volume could take writes after the cut that the copy would never see.
            VolumeCommands.Rm.refuseInUse("move", name, placements.targets(volumeId), placements.stagingPath(volumeId));
        }
    }

    private CreateVolumeRequest restore(Volume volume, String backup) {
        CreateVolumeRequest.Builder req = CreateVolumeRequest.newBuilder().setName(name)
                .addVolumeCapabilities(AccessModes.capability(accessMode, false))
                .putAllParameters(params).putParameters(VolumeCommands.FROM_BACKUP, backup);
        if (volume.getCapacityBytes() > 0) {
            req.setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(volume.getCapacityBytes()));
        }
        return req.build();
    }

    /** The move's snapshot and its backup: the destination's volume no longer needs them. */
    private void deleteSnapshot(CsiClient source, String snapshotId) {
        source.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshotId).build());
        out().println(name + ": backup " + via + "#" + snapshotId + " removed");
    }

    private Endpoint destination() {
        Endpoint destination;
        try {
            destination = Endpoint.parse(to);
        } catch (IllegalArgumentException e) {
            throw new CliException("--to: " + e.getMessage());
        }
        Path here = root().endpoint().socketPath().toAbsolutePath().normalize();
        if (destination.socketPath().toAbsolutePath().normalize().equals(here)) {
            throw new CliException("--to: " + to + " is the source driver's own socket; a move needs another driver");
        }
        return destination;
    }
}
