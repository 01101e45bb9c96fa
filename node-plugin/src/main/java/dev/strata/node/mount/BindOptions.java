package dev.strata.node.mount;

import dev.strata.common.CsiException;
import dev.strata.node.sys.LibC;
import java.util.Collection;
import java.util.Map;

/**
 * Mount flags a bind mount can carry, parsed from CSI {@code mount_flags}. Options that only a
 * filesystem can interpret (data options like {@code discard}) have no meaning on a bind mount and are
 * refused with a message that names them.
 */
public record BindOptions(long flags) {
    public static final BindOptions NONE = new BindOptions(0);

    private static final Map<String, Long> SET = Map.of(
            "ro", LibC.MS_RDONLY,
            "nosuid", LibC.MS_NOSUID,
            "nodev", LibC.MS_NODEV,
            "noexec", LibC.MS_NOEXEC,
            "noatime", LibC.MS_NOATIME,
            "nodiratime", LibC.MS_NODIRATIME,
            "relatime", LibC.MS_RELATIME,
            "strictatime", LibC.MS_STRICTATIME);
    /** Options that ask for the default; accepted and ignored. */
    private static final java.util.Set<String> DEFAULTS = java.util.Set.of("rw", "suid", "dev", "exec", "atime",
            "diratime", "defaults", "bind");

    public static BindOptions parse(String field, Collection<String> mountFlags) {
        long flags = 0;
        for (String entry : mountFlags) {
            for (String option : entry.split(",")) {
                String o = option.strip();
                if (o.isEmpty() || DEFAULTS.contains(o)) {
                    continue;
                }
                Long flag = SET.get(o);
                if (flag == null) {
                    throw CsiException.invalidArgument(field, "mount option \"" + o
                            + "\" is not supported on this volume (supported: " + String.join(", ", new java.util.TreeSet<>(SET.keySet())) + ")");
                }
                flags |= flag;
            }
        }
        return new BindOptions(flags);
    }

    public BindOptions withReadOnly(boolean readOnly) {
        return readOnly ? new BindOptions(flags | LibC.MS_RDONLY) : this;
    }

    public boolean readOnly() {
        return (flags & LibC.MS_RDONLY) != 0;
    }
}
