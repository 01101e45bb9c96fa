package dev.strata.cli;

import dev.strata.common.VolumeContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.ControllerGetVolumeRequest;
import dev.strata.csi.v1.ControllerServiceCapability.RPC.Type;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.Topology;
import dev.strata.csi.v1.Volume;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.strata.csi.v1.VolumeCondition;
import dev.strata.csi.v1.VolumeContentSource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratactl volume create|ls|inspect|rm}. */
@Command(name = "volume", description = "Manage volumes",
        subcommands = {VolumeCommands.Create.class, VolumeCommands.Ls.class, VolumeCommands.Inspect.class,
                VolumeCommands.Rm.class, VolumeMove.class})
final class VolumeCommands extends GroupCommand {

    @Command(name = "create", description = "Create a volume (CreateVolume); prints its ID")
    static final class Create extends CsiCommand {
        static final String DEFAULT_SIZE = "1Gi";

        @Parameters(paramLabel = "NAME", converter = Names.Converter.class,
                description = "The volume's name (CreateVolume's name): " + Names.ALLOWED + "+")
        String name;

        /** Unset by default: a clone or restore then gets the size the plugin chooses (normally the source's). */
        @Option(names = "--size", paramLabel = "SIZE", converter = Sizes.Converter.class,
                description = "Required capacity: 1Gi, 512Mi, 10G, 4096 ... (default: " + DEFAULT_SIZE
                        + ", or the plugin's choice with --from-snapshot/--from-volume)")
        Long size;

        @Option(names = "--param", paramLabel = "KEY=VALUE", description = "A StorageClass-style parameter")
        Map<String, String> params = new LinkedHashMap<>();

        @ArgGroup(exclusive = true)
        Source source;

        @Option(names = "--block", description = "Raw block volume instead of a filesystem mount")
        boolean block;

        @Option(names = "--access-mode", paramLabel = "MODE", defaultValue = AccessModes.DEFAULT,
                converter = AccessModes.Converter.class, completionCandidates = AccessModes.Candidates.class,
                description = "One of: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
        Mode accessMode;

        static final class Source {
            @Option(names = "--from-snapshot", paramLabel = "SNAPSHOT", description = "Restore from a snapshot")
            String snapshot;

            @Option(names = "--from-volume", paramLabel = "VOLUME", description = "Clone another volume")
            String volume;

            @Option(names = "--from-backup", paramLabel = "TARGET#BACKUP",
                    description = "Restore from a backup off the node (stratactl backup ls TARGET), on any host "
                            + "that reaches the target")
            String backup;
        }

        @Override
        protected int run(CsiClient client) throws InterruptedException {
            CreateVolumeRequest.Builder req = CreateVolumeRequest.newBuilder()
                    .setName(name)
                    .addVolumeCapabilities(AccessModes.capability(accessMode, block))
                    .putAllParameters(params);
            long bytes = size != null ? size : source == null ? Sizes.parse(DEFAULT_SIZE) : 0;
            if (bytes > 0) {
                req.setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(bytes));
            }
            if (source != null && source.backup != null) {
                req.putParameters(FROM_BACKUP, source.backup); // a Strata parameter, not a CSI content source
                out().println(createRestoring(client, req.build()).getVolumeId());
                return OK;
            } else if (source != null) {
                req.setVolumeContentSource(contentSource(new NameResolver(client)));
            }
            out().println(client.controller().createVolume(req.build()).getVolume().getVolumeId());
            return OK;
        }

        private VolumeContentSource contentSource(NameResolver names) {
            VolumeContentSource.Builder src = VolumeContentSource.newBuilder();
            if (source.snapshot != null) {
                src.setSnapshot(VolumeContentSource.SnapshotSource.newBuilder()
                        .setSnapshotId(names.snapshotId(source.snapshot)));
            } else {
                src.setVolume(VolumeContentSource.VolumeSource.newBuilder()
                        .setVolumeId(names.volumeId(source.volume)));
            }
            return src.build();
        }
    }

    /** The StorageClass-style parameter of a Strata driver that fills a new volume from a backup. */
    static final String FROM_BACKUP = "fromBackup";

    /**
     * CreateVolume for a restore from a backup, which may outlast one call's deadline, sent the way
     * a CO sends it: again after DEADLINE_EXCEEDED (the driver goes on restoring) and after ABORTED
     * (the call met that restore still running under the volume's lock), until it answers. The same
     * name makes every call the same volume.
     */
    static Volume createRestoring(CsiClient client, CreateVolumeRequest req) throws InterruptedException {
        while (true) {
            try {
                return client.controller().createVolume(req).getVolume();
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                if (code != Status.Code.DEADLINE_EXCEEDED && code != Status.Code.ABORTED) {
                    throw e;
                }
            }
            Thread.sleep(500);
        }
    }

    @Command(name = "ls", aliases = "list", description = "List volumes (ListVolumes)")
    static final class Ls extends CsiCommand {
        @Option(names = {"-q", "--quiet"}, description = "Only print volume IDs")
        boolean quiet;

        @Override
        protected int run(CsiClient client) {
            List<ListVolumesResponse.Entry> entries = client.listVolumes();
            if (quiet) {
                entries.forEach(e -> out().println(e.getVolume().getVolumeId()));
                return OK;
            }
            Table table = new Table("NAME", "VOLUME ID", "SIZE", "ENGINE");
            for (ListVolumesResponse.Entry e : entries) {
                Volume v = e.getVolume();
                Map<String, String> ctx = v.getVolumeContextMap();
                table.row(ctx.getOrDefault(VolumeContext.NAME, "-"), v.getVolumeId(),
                        v.getCapacityBytes() > 0 ? Sizes.human(v.getCapacityBytes()) : "-",
                        ctx.getOrDefault(VolumeContext.ENGINE, "-"));
            }
            table.print(out());
            return OK;
        }
    }

    @Command(name = "inspect", description = "Show volumes as JSON, like docker volume inspect")
    static final class Inspect extends CsiCommand {
        @Parameters(paramLabel = "NAME", arity = "1..*", description = "Volume names or IDs")
        List<String> names;

        @Override
        protected int run(CsiClient client) throws Exception {
            NameResolver resolver = new NameResolver(client);
            String driver = client.driverName();
            Optional<DriverRecords> records = DriverRecords.of(client);
            List<Map<String, Object>> found = new ArrayList<>();
            List<String> errors = new ArrayList<>();
            for (String name : names) {
                try {
                    ListVolumesResponse.Entry entry = resolver.volume(name);
                    Map<String, Object> volume = describe(client, driver, name, entry);
                    if (records.isPresent()) {
                        volume.put("Mounts", mounts(records.get(), entry.getVolume().getVolumeId()));
                    }
                    found.add(volume);
                } catch (CliException e) {
                    errors.add(e.getMessage());
                }
            }
            // Like docker: the volumes that exist are printed, then one error line per missing one.
            out().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(found));
            out().flush();
            errors.forEach(e -> err().println("stratactl: " + e));
            return errors.isEmpty() ? OK : FAILED;
        }

        private static Map<String, Object> describe(CsiClient client, String driver, String arg,
                ListVolumesResponse.Entry entry) {
            Volume v = entry.getVolume();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("Name", v.getVolumeContextMap().getOrDefault(VolumeContext.NAME, arg));
            out.put("Id", v.getVolumeId());
            out.put("Driver", driver);
            out.put("CapacityBytes", v.getCapacityBytes());
            out.put("Scope", "local");
            out.put("Options", new LinkedHashMap<>(v.getVolumeContextMap()));
            out.put("ContentSource", contentSource(v));
            out.put("AccessibleTopology", v.getAccessibleTopologyList().stream()
                    .map(Topology::getSegmentsMap).toList());
            Map<String, Object> status = status(client, entry);
            if (status != null) {
                out.put("Status", status);
            }
            return out;
        }

        /** Where the driver's records say the volume is staged and published on this node. */
        private static Map<String, Object> mounts(DriverRecords records, String volumeId) throws IOException {
            DriverRecords.NodeUse use = records.nodeUse(volumeId);
            Map<String, Object> mounts = new LinkedHashMap<>();
            mounts.put("StagingPath", use.stagingPath());
            mounts.put("TargetPaths", use.targets());
            return mounts;
        }

        private static Map<String, String> contentSource(Volume v) {
            if (!v.hasContentSource()) {
                return null;
            }
            VolumeContentSource src = v.getContentSource();
            return switch (src.getTypeCase()) {
                case SNAPSHOT -> Map.of("Snapshot", src.getSnapshot().getSnapshotId());
                case VOLUME -> Map.of("Volume", src.getVolume().getVolumeId());
                case TYPE_NOT_SET -> null;
            };
        }

        private static Map<String, Object> status(CsiClient client, ListVolumesResponse.Entry entry) {
            VolumeState state = VolumeState.of(client, entry);
            return state == null ? null : status(state.publishedNodes(), state.condition());
        }

        private static Map<String, Object> status(List<String> nodes, VolumeCondition condition) {
            Map<String, Object> status = new LinkedHashMap<>();
            status.put("PublishedNodeIds", List.copyOf(nodes));
            if (condition != null) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("Abnormal", condition.getAbnormal());
                c.put("Message", condition.getMessage());
                status.put("VolumeCondition", c);
            }
            return status;
        }
    }

    /** The nodes a volume is published to and its condition, as far as the plugin says. */
    record VolumeState(List<String> publishedNodes, VolumeCondition condition) {
        /** From ControllerGetVolume when the plugin has it, else whatever ListVolumes said; null if neither. */
        static VolumeState of(CsiClient client, ListVolumesResponse.Entry entry) {
            if (client.hasController(Type.GET_VOLUME)) {
                var s = client.controller().controllerGetVolume(ControllerGetVolumeRequest.newBuilder()
                        .setVolumeId(entry.getVolume().getVolumeId()).build()).getStatus();
                return new VolumeState(s.getPublishedNodeIdsList(),
                        s.hasVolumeCondition() ? s.getVolumeCondition() : null);
            }
            if (entry.hasStatus()) {
                var s = entry.getStatus();
                return new VolumeState(s.getPublishedNodeIdsList(),
                        s.hasVolumeCondition() ? s.getVolumeCondition() : null);
            }
            return null;
        }
    }

    @Command(name = "rm", aliases = "remove", description = {"Remove volumes (DeleteVolume)",
            "A volume that is mounted is refused, saying where; --force unmounts it first."})
    static final class Rm extends CsiCommand {
        @Parameters(paramLabel = "NAME", arity = "1..*", description = "Volume names or IDs")
        List<String> names;

        @Option(names = {"-f", "--force"}, description = {"Unmount each volume first wherever it is mounted on",
                "this node (after a client crashed, too) and detach it; a name that does not exist is no error"})
        boolean force;

        @Override
        protected int run(CsiClient client) throws IOException {
            NameResolver resolver = new NameResolver(client);
            try (Placements placements = Placements.open(client, root().stateDir())) {
                return forEachName(names, name -> {
                    try {
                        remove(client, resolver, placements, name);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }

        private void remove(CsiClient client, NameResolver resolver, Placements placements, String name)
                throws IOException {
            Optional<ListVolumesResponse.Entry> entry = resolver.find(name);
            if (entry.isEmpty()) {
                if (force) {
                    return; // like docker volume rm --force: gone is what was asked
                }
                throw new CliException("no such volume: " + name);
            }
            String id = entry.get().getVolume().getVolumeId();
            if (force) {
                VolumeState state = VolumeState.of(client, entry.get());
                new Unmounter(client, placements).releaseAll(id, state == null ? List.of() : state.publishedNodes());
            } else {
                refuseInUse("remove", name, placements.targets(id), placements.stagingPath(id));
            }
            try {
                client.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(id).build());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION && !force) {
                    throw new CliException("remove " + name + ": " + describe(e) + " (stratactl volume rm --force "
                            + name + " unmounts and detaches it first)");
                }
                throw e;
            }
        }

        /** Refuses (CliException) a volume mounted on this node, saying where and how to release it. */
        static void refuseInUse(String verb, String name, List<String> targets, Optional<Path> staging) {
            if (!targets.isEmpty()) {
                throw new CliException(verb + " " + name + ": volume is in use, mounted at " + String.join(", ", targets)
                        + " (stratactl umount " + name + " " + targets.get(0) + ", or stratactl volume rm --force "
                        + name + ")");
            }
            if (staging.isPresent()) {
                throw new CliException(verb + " " + name + ": volume is in use, staged at " + staging.get()
                        + " by a mount that did not finish (stratactl volume rm --force " + name + " unstages it)");
            }
        }
    }
}
