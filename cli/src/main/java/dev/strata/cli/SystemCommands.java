package dev.strata.cli;

import dev.strata.common.VolumeContext;
import dev.strata.csi.v1.ControllerServiceCapability;
import dev.strata.csi.v1.GetCapacityRequest;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.ListVolumesResponse;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import picocli.CommandLine.Command;

/** {@code stratactl system}: views of the whole driver, like {@code docker system}. */
@Command(name = "system", description = "Space used and what happens, over the whole driver (like docker system)",
        subcommands = {SystemCommands.Df.class, EventsCommand.class})
final class SystemCommands extends GroupCommand {
    /** Volumes, snapshots, what each engine can still give, and (for Strata) its thin pool and trash. */
    @Command(name = "df", description = "Show space by engine: volumes, snapshots, capacity, thin pool and trash, "
            + "like docker system df")
    static final class Df extends CsiCommand {
        @Override
        protected int run(CsiClient client) {
            List<ListVolumesResponse.Entry> volumes = client.listVolumes();
            List<ListSnapshotsResponse.Entry> snapshots =
                    client.hasController(ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS)
                            ? client.listSnapshots("", "") : List.of();
            Optional<Path> dataDir = client.dataDir();
            Map<String, Usage> engines = new TreeMap<>();
            dataDir.ifPresent(d -> DriverSpace.engines(d).forEach(e -> engines.put(e, new Usage())));
            Map<String, String> engineOf = new HashMap<>();
            for (ListVolumesResponse.Entry e : volumes) {
                String engine = e.getVolume().getVolumeContextMap().getOrDefault(VolumeContext.ENGINE, "-");
                engineOf.put(e.getVolume().getVolumeId(), engine);
                Usage u = engines.computeIfAbsent(engine, k -> new Usage());
                u.volumes++;
                u.bytes += e.getVolume().getCapacityBytes();
                if (e.hasStatus() && e.getStatus().getPublishedNodeIdsCount() > 0) {
                    u.active++;
                }
            }
            for (ListSnapshotsResponse.Entry s : snapshots) {
                Usage u = engines.computeIfAbsent(engineOf.getOrDefault(s.getSnapshot().getSourceVolumeId(), "-"),
                        k -> new Usage());
                u.snapshots++;
                u.snapshotBytes += s.getSnapshot().getSizeBytes();
            }
            boolean capacity = client.hasController(ControllerServiceCapability.RPC.Type.GET_CAPACITY);
            Table table = new Table("ENGINE", "VOLUMES", "ACTIVE", "SIZE", "SNAPSHOTS", "SNAPSHOT SIZE", "AVAILABLE",
                    "TRASH");
            for (Map.Entry<String, Usage> e : engines.entrySet()) {
                Usage u = e.getValue();
                String trash = dataDir.flatMap(d -> DriverSpace.trash(d, e.getKey()))
                        .map(t -> Sizes.human(t.bytes()) + " (" + t.entries() + ")").orElse("-");
                table.row(e.getKey(), Long.toString(u.volumes), Long.toString(u.active), Sizes.human(u.bytes),
                        Long.toString(u.snapshots), Sizes.human(u.snapshotBytes),
                        capacity && !e.getKey().equals("-") ? available(client, e.getKey()) : "-", trash);
            }
            table.print(out());
            Optional<DriverSpace.Pool> pool = dataDir.flatMap(DriverSpace::thinPool);
            if (pool.isPresent()) {
                DriverSpace.Pool p = pool.get();
                out().println();
                Table pools = new Table("POOL", "DATA USED", "DATA SIZE", "METADATA USED", "METADATA SIZE", "STATE");
                pools.row(p.name(), Sizes.human(p.dataUsed()) + " (" + percent(p.dataUsed(), p.dataSize()) + ")",
                        Sizes.human(p.dataSize()),
                        Sizes.human(p.metadataUsed()) + " (" + percent(p.metadataUsed(), p.metadataSize()) + ")",
                        Sizes.human(p.metadataSize()), p.state());
                pools.print(out());
            }
            return OK;
        }

        /** GetCapacity for an engine (Strata's StorageClass parameter {@code engine}). */
        private static String available(CsiClient client, String engine) {
            try {
                return Sizes.human(client.controller().getCapacity(GetCapacityRequest.newBuilder()
                        .putParameters("engine", engine).build()).getAvailableCapacity());
            } catch (StatusRuntimeException e) {
                return "-";
            }
        }

        private static String percent(long part, long whole) {
            return whole <= 0 ? "-" : Math.round(100.0 * part / whole) + "%";
        }
    }

    private static final class Usage {
        long volumes;
        long active;
        long bytes;
        long snapshots;
        long snapshotBytes;
    }
}
