package dev.strata.common.model;

/**
 * Where a snapshot is kept off the node: a backup named {@code name} in the target at {@code target}
 * (a URL such as {@code file:///mnt/backups}), and how far its upload got. {@code message} says why the
 * last upload failed, and {@code code} names the gRPC code a CreateSnapshot answers for that failure;
 * both are kept while the upload is tried again, and are empty before any failure and once stored.
 * {@code callSecrets}: the target is opened with secrets the
 * call carried (S3 credentials or a key), which nothing keeps, so only a call (a repeated
 * CreateSnapshot) resumes an interrupted upload; a restart does not try it with the node's own.
 */
public record BackupRef(String target, String name, Phase phase, String message, String code,
        boolean callSecrets) {
    /** Snapshot parameter: the URL of the target the snapshot is also kept in. */
    public static final String TARGET_PARAMETER = "backupTarget";
    /** Volume parameter: the backup ({@code TARGET#NAME}) a new volume starts from. */
    public static final String FROM_PARAMETER = "fromBackup";
    /**
     * What the error a CreateSnapshot answers for a failed upload says after the snapshot's ID; the call
     * that answers it has tried the upload again (stratactl waits for that try when it is its first call).
     */
    public static final String UPLOAD_FAILED = " is cut, but its upload to ";

    public enum Phase {
        /**
         * Cut locally; the upload has not finished (or a restart interrupted it: the next CreateSnapshot
         * resumes it); also the next try after a failure, which still says why that one failed.
         */
        UPLOADING,
        /** Every chunk and the manifest are stored in the target. */
        STORED,
        /** The upload failed: a CreateSnapshot answers why, and the next one tries it again. */
        FAILED
    }

    public BackupRef {
        message = message == null ? "" : message;
        code = code == null ? "" : code;
    }

    public static BackupRef uploading(String target, String name) {
        return new BackupRef(target, name, Phase.UPLOADING, "", "", false);
    }

    /** This backup, opened with the call's secrets (or not). */
    public BackupRef withCallSecrets(boolean fromCall) {
        return new BackupRef(target, name, phase, message, code, fromCall);
    }

    public BackupRef stored() {
        return new BackupRef(target, name, Phase.STORED, "", "", callSecrets);
    }

    /** Failed, with the name of the gRPC code that says how ({@code UNAVAILABLE}) and why. */
    public BackupRef failed(String code, String why) {
        return new BackupRef(target, name, Phase.FAILED, why, code, callSecrets);
    }

    /** A failed upload tried again: uploading, and still saying why the last try failed. */
    public BackupRef retrying() {
        return new BackupRef(target, name, Phase.UPLOADING, message, code, callSecrets);
    }

    /** The backup as one URL, {@code TARGET#NAME}: what {@code fromBackup} and {@code stratactl backup} take. */
    public String url() {
        return target + "#" + name;
    }
}
