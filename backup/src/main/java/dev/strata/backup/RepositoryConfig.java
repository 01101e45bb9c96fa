package dev.strata.backup;

import java.io.IOException;
import java.util.Base64;
import java.security.SecureRandom;

/**
 * The {@code "config"} object, plain JSON: what every writer must agree on (how to cut chunks) and
 * what a reader needs to derive the keys. It holds no secret: the key check is sealed with the key.
 *
 * @param kdf and keyCheck are null in an unencrypted repository
 */
record RepositoryConfig(int version, ChunkerParams chunker, boolean encrypted, Kdf kdf, String keyCheck) {
    static final int VERSION = 1;
    static final String KEY = "config";

    /** How to cut: the gear table's seed and the chunk sizes in bytes. */
    record ChunkerParams(long seed, int min, int avg, int max) {
        static final int MAX_LIMIT = 64 << 20;

        static ChunkerParams defaults(long seed) {
            return new ChunkerParams(seed, 512 << 10, 1 << 20, 4 << 20); // max 4 MiB: the node plugin's heap is small
        }

        boolean valid() {
            return min >= 64 && Integer.bitCount(avg) == 1 && min < avg && avg < max && max <= MAX_LIMIT;
        }
    }

    /** PBKDF2-HMAC-SHA256's salt (base64) and iteration count. */
    record Kdf(String salt, int iterations) {
        boolean valid() {
            try {
                // an attacker who can write the config must not make every open run for hours
                return salt != null && Base64.getDecoder().decode(salt).length >= RepositoryKeys.SALT_BYTES
                        && iterations >= 10_000 && iterations <= 10_000_000;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        byte[] saltBytes() {
            return Base64.getDecoder().decode(salt);
        }
    }

    static RepositoryConfig unencrypted() {
        return new RepositoryConfig(VERSION, ChunkerParams.defaults(newSeed()), false, null, null);
    }

    static RepositoryConfig encrypted(Kdf kdf, RepositoryKeys keys) {
        return new RepositoryConfig(VERSION, ChunkerParams.defaults(newSeed()), true, kdf,
                keys.keyCheck());
    }

    /** Unpredictable, so that in an encrypted repository chunk sizes do not reveal which known file is stored. */
    private static long newSeed() {
        return new SecureRandom().nextLong();
    }

    static RepositoryConfig parse(byte[] json, String url) throws BackupException {
        RepositoryConfig config = Json.read(json, RepositoryConfig.class, "the config of " + url);
        if (config.version != VERSION) {
            throw new BackupException(BackupException.Kind.CORRUPT,
                    "the config of " + url + " has version " + config.version + "; this code reads " + VERSION);
        }
        boolean chunkerOk = config.chunker != null && config.chunker.valid();
        boolean cryptoOk = !config.encrypted || (config.kdf != null && config.kdf.valid() && config.keyCheck != null);
        if (!chunkerOk || !cryptoOk) {
            throw new BackupException(BackupException.Kind.CORRUPT, "the config of " + url + " has invalid parameters");
        }
        return config;
    }

    byte[] toJson() throws IOException {
        return Json.write(this);
    }
}
