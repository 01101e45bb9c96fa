package dev.strata.node.storage;

import dev.strata.backup.BackupException;
import dev.strata.backup.BackupSecrets;
import dev.strata.common.CsiException;
import dev.strata.common.model.Secrets;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What every backup call on the node shares: the secrets a call carries, the node's own key where
 * the call gives none ({@code --backup-key-file}, read at each use, so a rotated file counts at
 * once), and a backup's failure as the CSI code a caller can act on. Neither the call's secrets nor
 * the key is ever recorded.
 */
final class BackupCalls {
    private final Path keyFile;

    BackupCalls(Path keyFile) {
        this.keyFile = keyFile;
    }

    /** The backup secrets a call carries, or INVALID_ARGUMENT naming the secret that is wrong. */
    static BackupSecrets fromCall(Secrets secrets) {
        try {
            return BackupSecrets.from(secrets.values());
        } catch (BackupException e) {
            throw CsiException.invalidArgument("secrets", e.getMessage());
        }
    }

    /** The call's secrets, with the node's key file where the call gives no key. */
    BackupSecrets withNodeKey(BackupSecrets fromCall) throws IOException {
        return fromCall.orKey(keyFile == null ? null : Files.readAllBytes(keyFile));
    }

    /** {@link #withNodeKey} of the call's own {@code secrets}. */
    BackupSecrets forCall(Secrets secrets) throws IOException {
        return withNodeKey(fromCall(secrets));
    }

    /** A backup's failure as the CSI code a caller can act on, naming the parameter. */
    static CsiException mapped(String field, IOException e) {
        if (!(e instanceof BackupException b)) {
            return new CsiException(Status.Code.UNAVAILABLE, field + ": the backup target cannot be reached: "
                    + e.getMessage());
        }
        return switch (b.kind()) {
            case INVALID -> CsiException.invalidArgument(field, b.getMessage());
            case NOT_FOUND -> CsiException.notFound(field + ": " + b.getMessage());
            case KEY_REQUIRED, WRONG_KEY -> CsiException.failedPrecondition(field + ": " + b.getMessage()
                    + " (the key is the call's secret " + BackupSecrets.KEY + ", else the node's --backup-key-file)");
            case MISSING_CHUNK, CORRUPT -> new CsiException(Status.Code.DATA_LOSS, field + ": " + b.getMessage());
            case BUSY -> CsiException.aborted(field + ": " + b.getMessage());
        };
    }
}
