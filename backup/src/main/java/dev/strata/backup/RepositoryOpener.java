package dev.strata.backup;

import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Opens a repository's config, creating it on an empty target, and turns the caller's key into the
 * repository's keys, telling a missing key, a wrong key and a needless key apart.
 */
final class RepositoryOpener {
    private static final int MAX_SECRET_BYTES = 64 << 10;
    /**
     * One monitor per target URL this JVM initialised or tried to, so that its initialisations take
     * turns. A target that cannot create an object only if it is absent (S3Proxy and other
     * S3-compatible servers ignore If-None-Match; some answer 501, and S3Target then checks and
     * puts) let two opens of one empty target at once each write a config of its own, with its own
     * salt and so its own keys, the last put winning: the node's open ahead of an upload
     * (SnapshotBackups.unlockAhead) and the upload's own open did exactly that at the first
     * encrypted backup to an empty bucket, whose manifest then opened with no key (the real
     * cluster's S3 scenario). Never removed: a monitor dropped while another thread waits on it
     * would let a third run beside it, and there is one small object per target.
     */
    private static final ConcurrentHashMap<String, Object> INITIALISING = new ConcurrentHashMap<>();

    /** An opened repository: its config and, when encrypted, its keys (else null). */
    record Opened(RepositoryConfig config, RepositoryKeys keys) {}

    private RepositoryOpener() {}

    static Opened open(BackupTarget target, byte[] secret) throws IOException {
        checkSecret(secret, target.url());
        if (!target.exists(RepositoryConfig.KEY)) {
            Opened created;
            synchronized (INITIALISING.computeIfAbsent(target.url(), url -> new Object())) {
                created = target.exists(RepositoryConfig.KEY) ? null : initialise(target, secret);
            }
            if (created != null) {
                return created;
            }
        }
        RepositoryConfig config = RepositoryConfig.parse(target.get(RepositoryConfig.KEY), target.url());
        return unlock(config, secret, target.url());
    }

    /**
     * Throws BUSY unless the target still keeps {@code config}, the one whose keys a backup sealed
     * its chunks with: two drivers creating one empty target in the same moment, on a server without
     * conditional writes, may each have kept their own, and only one config stays. A backup whose
     * config was replaced writes no index and no manifest (its chunks are orphans for a prune); its
     * retry opens the target anew and uses the config it keeps.
     */
    static void checkKept(BackupTarget target, RepositoryConfig config) throws IOException {
        if (!RepositoryConfig.parse(target.get(RepositoryConfig.KEY), target.url()).equals(config)) {
            throw new BackupException(BackupException.Kind.BUSY, "the config of " + target.url() + " was replaced "
                    + "while this backup ran (another writer created the target at the same moment, on a server "
                    + "without conditional writes); nothing was named; retry");
        }
    }

    private static void checkSecret(byte[] secret, String url) throws BackupException {
        if (secret != null && (secret.length == 0 || secret.length > MAX_SECRET_BYTES)) {
            throw new BackupException(BackupException.Kind.INVALID, "the key for " + url
                    + " must be 1 to " + MAX_SECRET_BYTES + " bytes, not " + secret.length);
        }
    }

    /**
     * Null when another writer initialised the target first: then its config is the one to use.
     * The config is read back after its put: where the put was not conditional, another process's
     * config may have landed instead (then that one is used), which narrows the window in which
     * two processes initialising one target at once both keep their own to the time between one's
     * put and its read.
     */
    private static Opened initialise(BackupTarget target, byte[] secret) throws IOException {
        if (!target.list("").isEmpty()) {
            throw new BackupException(BackupException.Kind.INVALID, target.url()
                    + " holds data but no backup config: not a Strata backup target");
        }
        Opened opened;
        if (secret == null) {
            opened = new Opened(RepositoryConfig.unencrypted(), null);
        } else {
            RepositoryConfig.Kdf kdf = new RepositoryConfig.Kdf(
                    Base64.getEncoder().encodeToString(RepositoryKeys.newSalt()),
                    RepositoryKeys.DEFAULT_ITERATIONS);
            RepositoryKeys keys = KeyCache.derive(secret, kdf.saltBytes(), kdf.iterations());
            opened = new Opened(RepositoryConfig.encrypted(kdf, keys), keys);
        }
        byte[] config = opened.config().toJson();
        return target.putIfAbsent(RepositoryConfig.KEY, config) && Arrays.equals(config,
                target.get(RepositoryConfig.KEY)) ? opened : null;
    }

    private static Opened unlock(RepositoryConfig config, byte[] secret, String url) throws BackupException {
        if (!config.encrypted()) {
            if (secret != null) {
                throw new BackupException(BackupException.Kind.INVALID,
                        "the backup target " + url + " is not encrypted; open it without a key");
            }
            return new Opened(config, null);
        }
        if (secret == null) {
            throw new BackupException(BackupException.Kind.KEY_REQUIRED,
                    "the backup target " + url + " is encrypted; a key is required");
        }
        RepositoryKeys keys = KeyCache.derive(secret, config.kdf().saltBytes(), config.kdf().iterations());
        if (!keys.opens(config.keyCheck())) {
            throw new BackupException(BackupException.Kind.WRONG_KEY, "the key does not open the backup target " + url);
        }
        return new Opened(config, keys);
    }
}
