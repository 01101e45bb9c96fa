package dev.strata.node.storage;

import static dev.strata.node.storage.BackupCalls.fromCall;
import static dev.strata.node.storage.BackupCalls.mapped;

import dev.strata.backup.BackupException;
import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSummary;
import dev.strata.backup.BackupTarget;
import dev.strata.common.CsiException;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import java.io.IOException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * New volumes filled from a backup (Flocker's data that follows its container): a volume whose
 * parameters name {@value #BackupRef.FROM_PARAMETER} ({@code TARGET#BACKUP}) is restored on any node
 * that reaches the target, file by file, block by block or layer by layer as its engine stores it
 * ({@link SnapshotContent}).
 */
final class BackupRestores {
    private static final Logger LOG = LoggerFactory.getLogger(BackupRestores.class);
    private static final String FIELD = "parameters." + BackupRef.FROM_PARAMETER;

    private final BackupCalls calls;

    BackupRestores(BackupCalls calls) {
        this.calls = calls;
    }

    /** Checks a volume's {@value #BackupRef.FROM_PARAMETER} before anything is made: its engine, and the URL's form. */
    String restoreSource(Map<String, String> parameters, VolumeEngine engine, boolean hasContentSource,
            Secrets secrets) {
        String from = parameters.get(BackupRef.FROM_PARAMETER);
        if (from == null) {
            return null;
        }
        if (hasContentSource) {
            throw CsiException.invalidArgument(FIELD, "a volume starts from a backup or from a content source, not "
                    + "both");
        }
        SnapshotContent.of(engine, FIELD);
        int hash = from.lastIndexOf('#');
        if (hash <= 0 || hash == from.length() - 1) {
            throw CsiException.invalidArgument(FIELD, "\"" + from + "\" is not TARGET#BACKUP (e.g. "
                    + "file:///mnt/backups#snap-1234)");
        }
        try {
            BackupRepository.checkName(from.substring(hash + 1));
            BackupTarget.open(from.substring(0, hash), fromCall(secrets));
        } catch (IOException e) {
            throw mapped(FIELD, e);
        }
        return from;
    }

    /** Fills a new volume (still being created) from the backup {@code from} ({@code TARGET#NAME}). */
    void restore(String from, VolumeEngine engine, VolumeRecord volume, Secrets secrets) throws IOException {
        int hash = from.lastIndexOf('#');
        long started = System.nanoTime();
        BackupSummary summary;
        try {
            BackupRepository repository = BackupRepository.holding(from.substring(0, hash), from.substring(hash + 1),
                    calls.forCall(secrets));
            summary = SnapshotContent.of(engine, FIELD).restore(repository, from.substring(hash + 1), volume);
        } catch (BackupException e) {
            throw mapped(FIELD, e);
        }
        LOG.info("volume {} restored from {} in {} ms: {} files, {} bytes", volume.id(), from,
                (System.nanoTime() - started) / 1_000_000, summary.files(), summary.logicalBytes());
    }
}
