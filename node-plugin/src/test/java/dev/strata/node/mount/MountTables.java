package dev.strata.node.mount;

import java.util.List;

/** Builds a {@link MountTable} from mountinfo lines, for tests outside this package. */
public final class MountTables {
    private MountTables() {}

    public static MountTable of(String... mountinfoLines) {
        return MountTable.parse(List.of(mountinfoLines));
    }

    /** A mountinfo line for a bind mount of {@code root} (on /dev/vda) at {@code mountPoint}. */
    public static String bindLine(int id, String root, String mountPoint) {
        return id + " 1 254:0 " + root + " " + mountPoint + " rw,relatime shared:1 - ext4 /dev/vda rw";
    }
}
