package dev.strata.common;

import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.VolumeRecord;
import dev.strata.csi.v1.VolumeCapability;
import java.util.List;

/** Reads CSI volume capabilities into Strata's types, refusing the ones that are malformed. */
public final class Capabilities {
    /** The parameter that carries a volume's filesystem (external-provisioner's name for it). */
    public static final String FS_TYPE_PARAMETER = "csi.storage.k8s.io/fstype";
    /** The attribute in which an engine that makes a filesystem says which it made. */
    public static final String FS_TYPE_ATTRIBUTE = "fsType";

    private Capabilities() {}

    public static AccessType accessType(String field, VolumeCapability capability) {
        return switch (capability.getAccessTypeCase()) {
            case MOUNT -> AccessType.MOUNT;
            case BLOCK -> AccessType.BLOCK;
            case ACCESSTYPE_NOT_SET -> throw CsiException.invalidArgument(field + ".access_type",
                    "required (mount or block)");
        };
    }

    public static AccessMode accessMode(String field, VolumeCapability capability) {
        if (!capability.hasAccessMode()) {
            throw CsiException.invalidArgument(field + ".access_mode", "required");
        }
        return switch (capability.getAccessMode().getMode()) {
            case SINGLE_NODE_WRITER -> AccessMode.SINGLE_NODE_WRITER;
            case SINGLE_NODE_READER_ONLY -> AccessMode.SINGLE_NODE_READER_ONLY;
            case MULTI_NODE_READER_ONLY -> AccessMode.MULTI_NODE_READER_ONLY;
            case MULTI_NODE_SINGLE_WRITER -> AccessMode.MULTI_NODE_SINGLE_WRITER;
            case MULTI_NODE_MULTI_WRITER -> AccessMode.MULTI_NODE_MULTI_WRITER;
            case SINGLE_NODE_SINGLE_WRITER -> AccessMode.SINGLE_NODE_SINGLE_WRITER;
            case SINGLE_NODE_MULTI_WRITER -> AccessMode.SINGLE_NODE_MULTI_WRITER;
            case UNKNOWN, UNRECOGNIZED -> throw CsiException.invalidArgument(field + ".access_mode.mode",
                    "unknown access mode " + capability.getAccessMode().getModeValue());
        };
    }

    /** The capability's mount flags (empty for block). */
    public static List<String> mountFlags(VolumeCapability capability) {
        return capability.hasMount() ? capability.getMount().getMountFlagsList() : List.of();
    }

    public static String fsType(VolumeCapability capability) {
        return capability.hasMount() ? capability.getMount().getFsType() : "";
    }

    /**
     * Checks that a volume can be used with this capability: the volume's own access type, a mode
     * and (for mounts) a filesystem type its engine offers. Returns the access mode; INVALID_ARGUMENT
     * naming the part of {@code field} that is wrong.
     */
    public static AccessMode checkFor(String field, EngineTraits traits, VolumeRecord volume, VolumeCapability cap) {
        AccessType type = accessType(field, cap);
        if (type != volume.accessType()) {
            throw CsiException.invalidArgument(field + ".access_type", "volume " + volume.id() + " is a "
                    + volume.accessType().name().toLowerCase() + " volume, not " + type.name().toLowerCase());
        }
        AccessMode mode = accessMode(field, cap);
        if (!traits.accessModes().contains(mode)) {
            throw CsiException.invalidArgument(field + ".access_mode", "the " + traits.name()
                    + " engine does not support " + mode);
        }
        checkFsType(field, traits, cap);
        checkMadeWith(field, volume, cap);
        return mode;
    }

    /**
     * A mount capability that names a filesystem must name the one the volume has, where its engine
     * reports which ({@value #FS_TYPE_ATTRIBUTE}): an ext4 volume is not confirmed, staged or published
     * as xfs. An empty fs_type asks for none in particular.
     */
    private static void checkMadeWith(String field, VolumeRecord volume, VolumeCapability cap) {
        String has = volume.attributes().get(FS_TYPE_ATTRIBUTE);
        String asked = cap.hasMount() ? cap.getMount().getFsType() : "";
        if (!asked.isEmpty() && has != null && !has.isEmpty() && !has.equals(asked)) {
            throw CsiException.invalidArgument(field + ".mount.fs_type", "volume " + volume.id() + " has an " + has
                    + " filesystem, not " + asked);
        }
    }

    /** A mount capability's fs_type must be one the engine makes; block capabilities have none. */
    public static void checkFsType(String field, EngineTraits traits, VolumeCapability cap) {
        if (cap.hasMount() && !traits.fsTypes().contains(cap.getMount().getFsType())) {
            throw CsiException.invalidArgument(field + ".mount.fs_type", "\"" + cap.getMount().getFsType()
                    + "\" is not supported by the " + traits.name() + " engine (supported: " + traits.fsTypes() + ")");
        }
    }

    /** A capability with both parts present, or INVALID_ARGUMENT naming the field. */
    public static VolumeCapability required(String field, boolean present, VolumeCapability capability) {
        if (!present) {
            throw CsiException.invalidArgument(field, "required");
        }
        accessType(field, capability);
        accessMode(field, capability);
        return capability;
    }
}
