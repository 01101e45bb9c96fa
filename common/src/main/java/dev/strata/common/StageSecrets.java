package dev.strata.common;

/**
 * The entries Strata reads from a NodeStageVolume request's secrets: in a cluster, the Secret a
 * StorageClass names in {@code csi.storage.k8s.io/node-stage-secret-name} and {@code -namespace};
 * standalone, what {@code stratactl volume mount} reads from its files.
 */
public final class StageSecrets {
    /** The key of an encrypted volume (LUKS2 passphrase): 1 to 4096 bytes, used exactly as given. */
    public static final String ENCRYPTION_KEY = "encryptionKey";

    private StageSecrets() {}
}
