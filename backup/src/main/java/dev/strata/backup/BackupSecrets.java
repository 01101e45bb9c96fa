package dev.strata.backup;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What opens a repository beside its URL, when a caller holds it rather than the process: S3
 * credentials (without them, the AWS SDK's default chain: environment, system properties, shared
 * credentials file), the certificates of a private CA that an S3 server's certificate chains to
 * (without them, the process's {@value #CA_CERT} variable, else the JVM's trust store) and the
 * encryption key (without it, the repository is unencrypted, or KEY_REQUIRED). Kubernetes hands
 * them to a CSI call from the Secret a StorageClass or VolumeSnapshotClass names, under the keys
 * below (Longhorn's names for the S3 ones). {@link #toString} never shows a value.
 *
 * @param accessKeyId S3 access key ID, or null
 * @param secretAccessKey S3 secret access key; given exactly when {@code accessKeyId} is
 * @param sessionToken S3 session token (temporary credentials), or null
 * @param caCert PEM certificates: the only CAs an https endpoint's certificate may chain to, or null
 * @param key the encryption key (a passphrase or a key file's bytes), or null
 */
public record BackupSecrets(String accessKeyId, String secretAccessKey, String sessionToken, String caCert,
        byte[] key) {
    public static final String ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";
    public static final String SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";
    public static final String SESSION_TOKEN = "AWS_SESSION_TOKEN";
    public static final String CA_CERT = "AWS_CERT";
    public static final String KEY = "backupKey";

    /** Nothing from the caller: the default credential chain, no key. */
    public static final BackupSecrets NONE = new BackupSecrets(null, null, null, null, null);

    public BackupSecrets {
        if ((accessKeyId == null) != (secretAccessKey == null)) {
            throw new IllegalArgumentException(ACCESS_KEY_ID + " and " + SECRET_ACCESS_KEY + " come together");
        }
        if (sessionToken != null && accessKeyId == null) {
            throw new IllegalArgumentException(SESSION_TOKEN + " needs " + ACCESS_KEY_ID);
        }
        key = key == null ? null : key.clone();
    }

    /** Only a key, as a node's key file gives it. */
    public static BackupSecrets keyOnly(byte[] key) {
        return new BackupSecrets(null, null, null, null, key);
    }

    /**
     * The backup secrets among a call's secrets (other keys are left for others), or INVALID naming
     * the secret key that is missing or empty. A key's text is taken as its UTF-8 bytes.
     */
    public static BackupSecrets from(Map<String, String> secrets) throws BackupException {
        String id = value(secrets, ACCESS_KEY_ID);
        String secret = value(secrets, SECRET_ACCESS_KEY);
        String token = value(secrets, SESSION_TOKEN);
        String caCert = value(secrets, CA_CERT);
        String key = value(secrets, KEY);
        if ((id == null) != (secret == null)) {
            throw new BackupException(BackupException.Kind.INVALID, "secret " + (id == null ? ACCESS_KEY_ID
                    : SECRET_ACCESS_KEY) + " is missing: S3 credentials need both " + ACCESS_KEY_ID + " and "
                    + SECRET_ACCESS_KEY);
        }
        if (token != null && id == null) {
            throw new BackupException(BackupException.Kind.INVALID, "secret " + SESSION_TOKEN + " needs "
                    + ACCESS_KEY_ID + " and " + SECRET_ACCESS_KEY);
        }
        return new BackupSecrets(id, secret, token, caCert, key == null ? null : key.getBytes(StandardCharsets.UTF_8));
    }

    private static String value(Map<String, String> secrets, String name) throws BackupException {
        String v = secrets.get(name);
        if (v != null && v.isEmpty()) {
            throw new BackupException(BackupException.Kind.INVALID, "secret " + name + " is empty");
        }
        return v;
    }

    /** Whether any of these came from the caller (else the process's own defaults serve). */
    public boolean isEmpty() {
        return accessKeyId == null && caCert == null && key == null;
    }

    /** These, with {@code fallback}'s key where these have none (a node's key file behind a call's secrets). */
    public BackupSecrets orKey(byte[] fallback) {
        return key != null || fallback == null ? this : new BackupSecrets(accessKeyId, secretAccessKey, sessionToken,
                caCert, fallback);
    }

    @Override
    public byte[] key() {
        return key == null ? null : key.clone();
    }

    /** The names of what is given, never a value. */
    @Override
    public String toString() {
        Set<String> given = new TreeSet<>();
        if (accessKeyId != null) {
            given.add(ACCESS_KEY_ID);
            given.add(SECRET_ACCESS_KEY);
        }
        if (sessionToken != null) {
            given.add(SESSION_TOKEN);
        }
        if (caCert != null) {
            given.add(CA_CERT);
        }
        if (key != null) {
            given.add(KEY);
        }
        return "BackupSecrets" + given;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackupSecrets b && Objects.equals(accessKeyId, b.accessKeyId)
                && Objects.equals(secretAccessKey, b.secretAccessKey)
                && Objects.equals(sessionToken, b.sessionToken) && Objects.equals(caCert, b.caCert)
                && Arrays.equals(key, b.key);
    }

    @Override
    public int hashCode() {
        return Objects.hash(accessKeyId, Arrays.hashCode(key));
    }
}
