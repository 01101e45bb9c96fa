package dev.strata.node.records;

import dev.strata.common.model.AccessMode;
import java.util.List;

/**
 * One NodePublishVolume: {@code source} (the stage's mount point, or a device node) is bind-mounted
 * at {@code targetPath}. A record from before the source was kept has it null.
 */
public record Publication(String targetPath, String source, boolean readOnly, AccessMode mode,
        List<String> mountFlags) {
    public Publication {
        mountFlags = List.copyOf(mountFlags);
    }

    /** Whether it is the same publication as asked for: what the CO can see of it (not the source). */
    public boolean sameRequest(Publication other) {
        return targetPath.equals(other.targetPath) && readOnly == other.readOnly && mode == other.mode
                && mountFlags.equals(other.mountFlags);
    }
}
