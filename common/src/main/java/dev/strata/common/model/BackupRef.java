package dev.strata.common.model;

/**
 * Where a snapshot is kept off the node: a backup named {@code name} in the target at {@code target}
 * (a URL such as {@code file:///mnt/backups}), and how far its upload got. {@code message} says why an
 * upload failed; it is empty otherwise. {@code callSecrets}: the target is opened with secrets the
 * call carried (S3 credentials or a key), which nothing keeps, so only a call (a repeated
 * CreateSnapshot) resumes an interrupted upload; a restart does not try it with the node's own.
 */
public record BackupRef(String target, String name, Phase phase, String message, boolean callSecrets) {
    /** Snapshot parameter: the URL of the target the snapshot is also kept in. */
    public static final String TARGET_PARAMETER = "backupTarget";
    /** Volume parameter: the backup ({@code TARGET#NAME}) a new volume starts from. */
    public static final String FROM_PARAMETER = "fromBackup";

    public enum Phase {
        /** Cut locally; the upload has not finished (or a restart interrupted it: the next CreateSnapshot resumes it). */
        UPLOADING,
        /** Every chunk and the manifest are stored in the target. */
        STORED,
        /** The upload failed; the next CreateSnapshot retries it. */
        FAILED
    }

    public BackupRef {
        message = message == null ? "" : message;
    }

    public static BackupRef uploading(String target, String name) {
        return new BackupRef(target, name, Phase.UPLOADING, "", false);
    }

    /** This backup, opened with the call's secrets (or not). */
    public BackupRef withCallSecrets(boolean fromCall) {
        return new BackupRef(target, name, phase, message, fromCall);
    }

    public BackupRef stored() {
        return new BackupRef(target, name, Phase.STORED, "", callSecrets);
    }

    public BackupRef failed(String why) {
        return new BackupRef(target, name, Phase.FAILED, why, callSecrets);
    }

    /** The backup as one URL, {@code TARGET#NAME}: what {@code fromBackup} and {@code stratactl backup} take. */
    public String url() {
        return target + "#" + name;
    }
}
