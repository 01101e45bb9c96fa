package dev.strata.node.engine;

import dev.strata.common.CsiException;
import dev.strata.common.StageSecrets;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * The key that opens an encrypted volume, as staging receives it: the {@value #SECRET_KEY} entry of
 * the node-stage secret (in a cluster, the StorageClass's {@code csi.storage.k8s.io/node-stage-secret-*};
 * standalone, {@code stratactl volume mount --key-file}). It prints as a placeholder, so that no log
 * line or message built from it carries the key.
 */
public final class VolumeKey {
    /** The secret's entry that holds the key. */
    public static final String SECRET_KEY = StageSecrets.ENCRYPTION_KEY;
    /** The most a key may be: cryptsetup reads at most 8 MiB of a key file; far less is plenty. */
    static final int MAX_BYTES = 4096;
    /** No key was given (a volume that needs none, or a caller that forgot it). */
    public static final VolumeKey NONE = new VolumeKey(new byte[0]);

    private final byte[] bytes;

    private VolumeKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The key in a node-stage request's secrets; {@link #NONE} when there is none. */
    public static VolumeKey fromSecrets(String field, Map<String, String> secrets) {
        String value = secrets.get(SECRET_KEY);
        if (value == null) {
            return NONE;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length > MAX_BYTES) {
            // The length only: the value is the secret.
            throw CsiException.invalidArgument(field + "." + SECRET_KEY, "must be 1 to " + MAX_BYTES
                    + " bytes, not " + bytes.length);
        }
        return new VolumeKey(bytes);
    }

    public boolean present() {
        return bytes.length > 0;
    }

    /** A copy of the key's bytes, for the one tool that takes it on its standard input. */
    public byte[] bytes() {
        return Arrays.copyOf(bytes, bytes.length);
    }

    @Override
    public String toString() {
        return present() ? "VolumeKey[redacted]" : "VolumeKey[none]";
    }
}
