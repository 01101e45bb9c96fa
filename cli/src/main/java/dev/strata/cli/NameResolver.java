package dev.strata.cli;

import dev.strata.common.VolumeContext;
import dev.strata.common.model.Ids;
import dev.strata.csi.v1.ControllerServiceCapability.RPC.Type;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.Volume;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Turns what a user types (a volume's name, its ID, or the name Strata derived the ID from) into a CSI
 * volume or snapshot ID. CSI has no lookup by name, so volumes are found by listing; the listing is
 * taken once per command.
 */
final class NameResolver {

    private final CsiClient client;
    private List<ListVolumesResponse.Entry> volumes;

    NameResolver(CsiClient client) {
        this.client = client;
    }

    /**
     * The listed volume that {@code arg} names: by its name in volume_context, else by ID, else by the
     * ID Strata derives from that name. A plugin that cannot list volumes gets {@code arg} as the ID.
     */
    ListVolumesResponse.Entry volume(String arg) {
        return find(arg).orElseThrow(() -> new CliException("no such volume: " + arg));
    }

    /** {@link #volume}, empty when no volume has that name or ID. */
    Optional<ListVolumesResponse.Entry> find(String arg) {
        if (!client.hasController(Type.LIST_VOLUMES)) {
            return Optional.of(ListVolumesResponse.Entry.newBuilder().setVolume(Volume.newBuilder().setVolumeId(arg))
                    .build());
        }
        if (volumes == null) {
            volumes = client.listVolumes();
        }
        String derived = Ids.volumeId(arg);
        return find(e -> arg.equals(e.getVolume().getVolumeContextMap().get(VolumeContext.NAME)))
                .or(() -> find(e -> e.getVolume().getVolumeId().equals(arg)))
                .or(() -> find(e -> e.getVolume().getVolumeId().equals(derived)));
    }

    String volumeId(String arg) {
        return volume(arg).getVolume().getVolumeId();
    }

    private Optional<ListVolumesResponse.Entry> find(Predicate<ListVolumesResponse.Entry> test) {
        return volumes.stream().filter(test).findFirst();
    }

    /** The snapshot whose ID is {@code arg}, else the one whose ID Strata derives from the name {@code arg}. */
    String snapshotId(String arg) {
        return findSnapshot(arg).orElseThrow(() -> new CliException("no such snapshot: " + arg));
    }

    /** {@link #snapshotId}, empty when no snapshot has that name or ID. */
    Optional<String> findSnapshot(String arg) {
        if (!client.hasController(Type.LIST_SNAPSHOTS)) {
            return Optional.of(arg);
        }
        return listedSnapshot(arg).or(() -> listedSnapshot(Ids.snapshotId(arg)));
    }

    private Optional<String> listedSnapshot(String id) {
        try {
            return client.listSnapshots(id, "").stream().map(ListSnapshotsResponse.Entry::getSnapshot)
                    .map(Snapshot::getSnapshotId).filter(id::equals).findFirst();
        } catch (StatusRuntimeException e) {
            // Some plugins refuse an ID they could never have issued instead of listing nothing.
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.INVALID_ARGUMENT || code == Status.Code.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }
}
