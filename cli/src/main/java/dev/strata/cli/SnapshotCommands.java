package dev.strata.cli;

import com.google.protobuf.Timestamp;
import dev.strata.common.model.BackupRef;
import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.Snapshot;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratactl snapshot create|ls|rm}. */
@Command(name = "snapshot", description = "Manage snapshots",
        subcommands = {SnapshotCommands.Create.class, SnapshotCommands.Ls.class, SnapshotCommands.Rm.class})
final class SnapshotCommands extends GroupCommand {

    @Command(name = "create", description = "Snapshot a volume (CreateSnapshot); prints the snapshot's ID")
    static final class Create extends CsiCommand {
        @Parameters(paramLabel = "VOLUME", description = "The source volume's name or ID")
        String volume;

        @Option(names = "--name", required = true, paramLabel = "NAME", converter = Names.Converter.class,
                description = "The snapshot's name: " + Names.ALLOWED + "+")
        String name;

        @Option(names = "--param", paramLabel = "KEY=VALUE", description = "A VolumeSnapshotClass-style parameter")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(names = "--to", paramLabel = "TARGET",
                description = "Also keep the snapshot off the node, in this backup target (file:///DIR); waits "
                        + "until it is stored and prints its backup URL too")
        String target;

        @Option(names = "--no-wait", description = "With --to: return once the snapshot is cut, not stored")
        boolean noWait;

        @Override
        protected int run(CsiClient client) throws InterruptedException {
            String source = new NameResolver(client).volumeId(volume);
            CreateSnapshotRequest.Builder req = CreateSnapshotRequest.newBuilder().setSourceVolumeId(source)
                    .setName(name).putAllParameters(params);
            if (target != null) {
                req.putParameters(BACKUP_TARGET, target);
            }
            Snapshot snapshot = target != null && !noWait ? createStored(client, req.build(), "the snapshot " + name
                    + " is kept: the same command again resumes its upload; `stratactl snapshot rm " + name
                    + "` removes it")
                    : client.controller().createSnapshot(req.build()).getSnapshot();
            out().println(snapshot.getSnapshotId());
            if (target != null && snapshot.getReadyToUse()) {
                out().println(target + "#" + snapshot.getSnapshotId());
            }
            return OK;
        }
    }

    /**
     * Creates a remote snapshot and waits until it is stored, the CO's way: the same CreateSnapshot
     * again until it answers ready_to_use. An upload that fails ends the wait with its error and
     * {@code whatNow}, a line on what the user can do (Convoy's backup create failed the same way).
     * The first call's errors are thrown as they come (nothing was cut), except an earlier run's failed
     * upload, which that call tried again: the wait follows that try.
     */
    static Snapshot createStored(CsiClient client, CreateSnapshotRequest req, String whatNow)
            throws InterruptedException {
        Snapshot snapshot = Snapshot.getDefaultInstance();
        for (boolean first = true; !snapshot.getReadyToUse(); first = false) {
            try {
                snapshot = client.controller().createSnapshot(req).getSnapshot();
            } catch (io.grpc.StatusRuntimeException e) {
                // A failed upload answered to the first call is an earlier run's: this call tried it again.
                boolean earlierFailure = first && String.valueOf(e.getStatus().getDescription())
                        .contains(BackupRef.UPLOAD_FAILED);
                if (e.getStatus().getCode() != io.grpc.Status.Code.ABORTED && !earlierFailure) {
                    throw first ? e : new CliException(CsiCommand.describe(e) + "\n" + whatNow);
                } // ABORTED: the upload is recording its outcome
            }
            if (!snapshot.getReadyToUse()) {
                Thread.sleep(200);
            }
        }
        return snapshot;
    }

    /** The VolumeSnapshotClass parameter of a Strata driver that names a backup target. */
    static final String BACKUP_TARGET = "backupTarget";

    @Command(name = "ls", aliases = "list", description = "List snapshots (ListSnapshots)")
    static final class Ls extends CsiCommand {
        @Option(names = {"-q", "--quiet"}, description = "Only print snapshot IDs")
        boolean quiet;

        @Override
        protected int run(CsiClient client) throws IOException {
            List<ListSnapshotsResponse.Entry> entries = client.listSnapshots("", "");
            if (quiet) {
                entries.forEach(e -> out().println(e.getSnapshot().getSnapshotId()));
                return OK;
            }
            // CSI lists snapshots without their names; a Strata driver's records have them.
            Optional<DriverRecords> records = DriverRecords.of(client);
            Map<String, String> names = records.isPresent() ? records.get().snapshotNames() : Map.of();
            Table table = new Table("NAME", "SNAPSHOT ID", "SOURCE VOLUME", "SIZE", "CREATED", "READY");
            for (ListSnapshotsResponse.Entry e : entries) {
                Snapshot s = e.getSnapshot();
                table.row(names.getOrDefault(s.getSnapshotId(), "-"), s.getSnapshotId(), s.getSourceVolumeId(),
                        s.getSizeBytes() > 0 ? Sizes.human(s.getSizeBytes()) : "-",
                        s.hasCreationTime() ? created(s.getCreationTime()) : "-",
                        String.valueOf(s.getReadyToUse()));
            }
            table.print(out());
            return OK;
        }

        private static String created(Timestamp t) {
            return Instant.ofEpochSecond(t.getSeconds()).toString();
        }
    }

    @Command(name = "rm", aliases = "remove", description = "Remove snapshots (DeleteSnapshot)")
    static final class Rm extends CsiCommand {
        @Parameters(paramLabel = "NAME|ID", arity = "1..*", description = "Snapshot names or IDs")
        List<String> names;

        @Option(names = {"-f", "--force"}, description = "A name that does not exist is no error")
        boolean force;

        @Override
        protected int run(CsiClient client) {
            NameResolver resolver = new NameResolver(client);
            return forEachName(names, name -> {
                Optional<String> id = resolver.findSnapshot(name);
                if (id.isEmpty() && !force) {
                    throw new CliException("no such snapshot: " + name);
                }
                id.ifPresent(i -> client.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder()
                        .setSnapshotId(i).build()));
            });
        }
    }
}
