package dev.strata.node.state;

import dev.strata.common.model.AccessMode;
import java.util.List;

/** One NodePublishVolume: the volume is bind-mounted at {@code targetPath}. */
public record Publication(String targetPath, boolean readOnly, AccessMode mode, List<String> mountFlags) {
    public Publication {
        mountFlags = List.copyOf(mountFlags);
    }
}
