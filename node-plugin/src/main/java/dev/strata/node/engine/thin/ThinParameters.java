package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.model.AccessType;
import dev.strata.node.iolimit.IoLimits;
import java.util.Map;
import java.util.Set;

/** A thin volume's parameters: which there are, what they may say, and what they mean. */
final class ThinParameters {
    static final Set<String> KEYS = IoLimits.withKeys(Set.of(ThinEngine.FS_TYPE_PARAMETER,
            ThinEngine.MKFS_OPTIONS_PARAMETER, ThinEngine.ENCRYPTED_PARAMETER));

    private ThinParameters() {}

    static void validate(String field, Map<String, String> parameters) {
        String fs = parameters.get(ThinEngine.FS_TYPE_PARAMETER);
        if (fs != null && !fs.equals("ext4") && !fs.equals("xfs")) {
            throw CsiException.invalidArgument(field + "." + ThinEngine.FS_TYPE_PARAMETER, "\"" + fs
                    + "\" is not a filesystem the thin engine makes (ext4, xfs)");
        }
        MkfsOptions.parse(field + "." + ThinEngine.MKFS_OPTIONS_PARAMETER, fsType(parameters),
                parameters.get(ThinEngine.MKFS_OPTIONS_PARAMETER));
        String encrypted = parameters.get(ThinEngine.ENCRYPTED_PARAMETER);
        if (encrypted != null && !encrypted.equals("true") && !encrypted.equals("false")) {
            throw CsiException.invalidArgument(field + "." + ThinEngine.ENCRYPTED_PARAMETER, "\"" + encrypted
                    + "\" is neither true nor false");
        }
    }

    /**
     * The least a volume can be: a raw block volume any whole number of 4 KiB blocks; a filesystem
     * what mkfs makes with the engine's options: ext4 1 MiB (64 KiB is too little), xfs 300 MiB
     * (xfsprogs 5.19 and later refuse less).
     */
    static long minimumBytes(Map<String, String> parameters, AccessType accessType) {
        if (accessType == AccessType.BLOCK) {
            return 0;
        }
        return fsType(parameters).equals("xfs") ? 300L << 20 : 1L << 20;
    }

    static boolean encrypted(Map<String, String> parameters) {
        return Boolean.parseBoolean(parameters.get(ThinEngine.ENCRYPTED_PARAMETER));
    }

    static String fsType(Map<String, String> parameters) {
        String fs = parameters.getOrDefault(ThinEngine.FS_TYPE_PARAMETER, "");
        return fs.isEmpty() ? "ext4" : fs;
    }
}
