package dev.strata.cli;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.backup.BackupSummary;
import dev.strata.backup.Manifest;
import dev.strata.backup.VerifyReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stratactl backup ls|inspect|verify|rm}, Convoy's verbs for snapshots kept off the node. They
 * work on the backup target itself (a URL such as {@code file:///mnt/backups}), not through a driver:
 * a target outlives the node that wrote it. A backup is named {@code TARGET#NAME}, as
 * {@code volume create --from-backup} takes it.
 */
@Command(name = "backup", description = "Inspect and manage backups (snapshots kept off the node)",
        subcommands = {BackupCommands.Ls.class, BackupCommands.Inspect.class, BackupCommands.Verify.class,
                BackupCommands.Rm.class})
final class BackupCommands extends GroupCommand {

    /** A command on a backup target: no driver socket, the target's key from a file. */
    abstract static class TargetCommand extends CsiCommand {
        @Option(names = "--key-file", paramLabel = "FILE",
                description = "The secret an encrypted target was made with (the driver's --backup-key-file)")
        Path keyFile;

        @Override
        CsiClient connect(StrataCtl root) {
            return null;
        }

        /** The repository at {@code target}; none where it holds no backup config. Writes nothing. */
        Optional<BackupRepository> existing(String target) throws IOException {
            return BackupRepository.openExisting(target, secrets());
        }

        /** The repository backup {@code name} is read from: NOT_FOUND where the target holds none. */
        BackupRepository holding(String target, String name) throws IOException {
            return BackupRepository.holding(target, name, secrets());
        }

        private BackupSecrets secrets() throws IOException {
            return BackupSecrets.keyOnly(keyFile == null ? null : Files.readAllBytes(keyFile));
        }

        /** {@code TARGET#NAME} split in two. */
        static String[] split(String url) {
            int hash = url.lastIndexOf('#');
            if (hash <= 0 || hash == url.length() - 1) {
                throw new CliException("\"" + url + "\" is not TARGET#BACKUP (e.g. file:///mnt/backups#snap-1234)");
            }
            return new String[] {url.substring(0, hash), url.substring(hash + 1)};
        }
    }

    @Command(name = "ls", aliases = "list", description = "List the backups in a target")
    static final class Ls extends TargetCommand {
        @Parameters(paramLabel = "TARGET", description = "e.g. file:///mnt/backups")
        String target;

        @Option(names = {"-q", "--quiet"}, description = "Only print backup URLs")
        boolean quiet;

        @Override
        protected int run(CsiClient unused) throws IOException {
            Optional<BackupRepository> repository = existing(target); // none: a target with no backup yet
            List<BackupSummary> all = repository.isPresent() ? repository.get().list() : List.of();
            if (quiet) {
                all.forEach(b -> out().println(target + "#" + b.name()));
                return OK;
            }
            Table table = new Table("BACKUP", "VOLUME", "SNAPSHOT", "FILES", "SIZE", "UPLOADED", "CREATED");
            for (BackupSummary b : all) {
                table.row(b.name(), b.labels().getOrDefault("volume", "-"), b.labels().getOrDefault("snapshot", "-"),
                        String.valueOf(b.files()), Sizes.human(b.logicalBytes()), Sizes.human(b.uploadedBytes()),
                        b.createdAt().toString());
            }
            table.print(out());
            return OK;
        }
    }

    @Command(name = "inspect", description = "Show a backup's summary and files")
    static final class Inspect extends TargetCommand {
        @Parameters(paramLabel = "TARGET#BACKUP", description = "e.g. file:///mnt/backups#snap-1234")
        String url;

        @Option(names = "--files", description = "Also list every file, directory and link")
        boolean files;

        @Override
        protected int run(CsiClient unused) throws IOException {
            String[] parts = split(url);
            Manifest manifest = holding(parts[0], parts[1]).manifest(parts[1]);
            BackupSummary s = manifest.summary();
            out().printf("backup:     %s%ncreated:    %s%nparent:     %s%nlabels:     %s%n", url, s.createdAt(),
                    s.parent() == null ? "-" : s.parent(), s.labels());
            if (s.files() == 0 && manifest.entries().size() == 1 && Manifest.Entry.IMAGE.equals(
                    manifest.entries().get(0).type())) {
                out().printf("image:      %s (a device's blocks)%n", Sizes.human(s.logicalBytes()));
            } else if (!manifest.entries().isEmpty() && Manifest.Entry.LAYER.equals(manifest.entries().get(0).type())) {
                out().printf("layers:     %d (%s), each a backup of its own, shared by content%n",
                        manifest.entries().size(), Sizes.human(s.logicalBytes()));
            } else {
                out().printf("files:      %d (%s), %d directories, %d links, %d skipped%n", s.files(),
                        Sizes.human(s.logicalBytes()), s.directories(), s.symlinks(), s.skipped());
            }
            out().printf("chunks:     %d, %d new (%s uploaded, %s read)%n", s.chunks(), s.newChunks(),
                    Sizes.human(s.uploadedBytes()), Sizes.human(s.readBytes()));
            if (files) {
                for (Manifest.Entry e : manifest.entries()) {
                    out().printf("%-7s %04o %10d  %s%s%n", e.type(), e.mode() & 07777, e.size(), e.path(),
                            e.target() == null ? "" : " -> " + e.target());
                }
            }
            return OK;
        }
    }

    @Command(name = "verify", description = "Re-read and check every chunk of a backup")
    static final class Verify extends TargetCommand {
        @Parameters(paramLabel = "TARGET#BACKUP", arity = "1..*", description = "Backups to verify")
        List<String> urls;

        @Override
        protected int run(CsiClient unused) throws IOException {
            int exit = OK;
            for (String url : urls) {
                String[] parts = split(url);
                VerifyReport r = holding(parts[0], parts[1]).verify(parts[1]);
                out().printf("%s: %d chunks, %s checked: %s%n", url, r.chunksChecked(), Sizes.human(r.bytesChecked()),
                        r.ok() ? "ok" : r.problems().size() + " problems");
                for (String p : r.problems()) {
                    err().println("stratactl: " + url + ": " + p);
                    exit = FAILED;
                }
            }
            return exit;
        }
    }

    @Command(name = "rm", aliases = "remove", description = "Remove backups, and the chunks only they used")
    static final class Rm extends TargetCommand {
        @Parameters(paramLabel = "TARGET#BACKUP", arity = "1..*", description = "Backups to remove")
        List<String> urls;

        @Override
        protected int run(CsiClient unused) {
            return forEachName(urls, url -> {
                String[] parts = split(url);
                try {
                    BackupRepository.checkName(parts[1]);
                    Optional<BackupRepository> repository = existing(parts[0]); // none: no backup to remove
                    if (repository.isPresent()) {
                        repository.get().remove(parts[1]);
                    }
                } catch (IOException e) {
                    throw new CliException(url + ": " + e.getMessage());
                }
            });
        }
    }
}
