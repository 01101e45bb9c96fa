package dev.strata.backup;

import java.io.IOException;

/**
 * A failure of the backup repository that callers map to an error code: the {@link Kind} says what
 * went wrong, the message says where (the target URL, the backup, the chunk, the file).
 */
public final class BackupException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, for callers that map errors to codes. */
    public enum Kind {
        /** A bad argument: a name, URL, key, path or label the repository cannot accept. */
        INVALID,
        /** The named backup does not exist. */
        NOT_FOUND,
        /** A chunk a backup references is gone from the target. */
        MISSING_CHUNK,
        /** An object failed its checks: bad format, failed decryption or decompression, wrong hash, unsafe manifest. */
        CORRUPT,
        /** The key given does not open the encrypted repository. */
        WRONG_KEY,
        /** The repository is encrypted and no key was given. */
        KEY_REQUIRED,
        /** Another operation holds the repository (a prune while backing up); retry later. */
        BUSY
    }

    private final Kind kind;

    public BackupException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public BackupException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
