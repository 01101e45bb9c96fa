package dev.strata.common.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Volume and snapshot IDs are derived from the CO's name. A retried CreateVolume, even one that
 * arrives after a crash and restart, therefore lands on the same ID and the same on-disk record, and
 * two calls with the same name contend for the same lock. IDs are plain [a-z0-9-] text, never paths.
 */
public final class Ids {
    public static final String VOLUME_PREFIX = "vol-";
    public static final String SNAPSHOT_PREFIX = "snap-";
    public static final String GROUP_SNAPSHOT_PREFIX = "group-";
    /**
     * The names of a node's inline (ephemeral) volumes begin so; CreateVolume refuses such names, so
     * that no CO-made volume is mistaken for one (and deleted when a pod goes).
     */
    public static final String INLINE_VOLUME_PREFIX = "ephemeral:";

    private Ids() {}

    public static String volumeId(String name) {
        return VOLUME_PREFIX + digest("volume\0" + name);
    }

    public static String snapshotId(String name) {
        return SNAPSHOT_PREFIX + digest("snapshot\0" + name);
    }

    public static String groupSnapshotId(String name) {
        return GROUP_SNAPSHOT_PREFIX + digest("group\0" + name);
    }

    /** The member of group snapshot {@code groupId} that holds volume {@code volumeId}. */
    public static String groupMemberSnapshotId(String groupId, String volumeId) {
        return SNAPSHOT_PREFIX + digest("member\0" + groupId + "\0" + volumeId);
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
