package dev.strata.node.iolimit;

import dev.strata.common.CsiException;
import dev.strata.common.Quantities;
import dev.strata.common.model.VolumeRecord;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A volume's I/O limits: bytes and operations per second, read and write, each 0 for none. They
 * come from the StorageClass parameters, and a VolumeAttributesClass (mutable parameters) overrides
 * them; {@code "0"} lifts one. Values are Kubernetes quantities ({@code 10Mi}, {@code 500}, {@code 2k}).
 */
public record IoLimits(long readBytesPerSecond, long writeBytesPerSecond, long readIops, long writeIops) {
    public static final String READ_BPS = "readBytesPerSecond";
    public static final String WRITE_BPS = "writeBytesPerSecond";
    public static final String READ_IOPS = "readIOPS";
    public static final String WRITE_IOPS = "writeIOPS";
    /** The parameter keys, valid at creation and as mutable parameters on engines that can limit I/O. */
    public static final Set<String> KEYS = Set.of(READ_BPS, WRITE_BPS, READ_IOPS, WRITE_IOPS);
    public static final IoLimits NONE = new IoLimits(0, 0, 0, 0);

    // Floors, so that a typo (10 instead of 10Mi) cannot leave a pod's writes, and with them its
    // unmount and the node's fsfreeze, stalled for hours.
    static final long MIN_BYTES_PER_SECOND = 1L << 20;
    static final long MIN_IOPS = 10;

    /** An engine's parameter keys with these added. */
    public static Set<String> withKeys(Set<String> keys) {
        Set<String> all = new HashSet<>(keys);
        all.addAll(KEYS);
        return Set.copyOf(all);
    }

    /** INVALID_ARGUMENT naming {@code field.KEY} for a value that is not a quantity or under its floor. */
    public static IoLimits parse(String field, Map<String, String> parameters) {
        return new IoLimits(value(field, parameters, READ_BPS, MIN_BYTES_PER_SECOND),
                value(field, parameters, WRITE_BPS, MIN_BYTES_PER_SECOND),
                value(field, parameters, READ_IOPS, MIN_IOPS), value(field, parameters, WRITE_IOPS, MIN_IOPS));
    }

    /** The limits a volume has now: its StorageClass's, with its VolumeAttributesClass's over them. */
    public static IoLimits of(VolumeRecord volume) {
        return parse("parameters", volume.effectiveParameters());
    }

    /** Whether the parameters ask for a limit (a non-zero value of any key). */
    public static boolean requested(Map<String, String> parameters) {
        return !parse("parameters", parameters).none();
    }

    public boolean none() {
        return equals(NONE);
    }

    private static long value(String field, Map<String, String> parameters, String key, long floor) {
        String text = parameters.get(key);
        if (text == null) {
            return 0;
        }
        long value;
        try {
            value = Quantities.parse(text);
        } catch (IllegalArgumentException e) {
            throw CsiException.invalidArgument(field + "." + key, e.getMessage());
        }
        if (value != 0 && value < floor) {
            throw CsiException.invalidArgument(field + "." + key, text + " is under the floor of " + floor
                    + (floor == MIN_IOPS ? " operations" : " bytes (1Mi)") + " per second (0 lifts the limit)");
        }
        return value;
    }

    @Override
    public String toString() {
        return "read " + readBytesPerSecond + " B/s " + readIops + " IOPS, write " + writeBytesPerSecond + " B/s "
                + writeIops + " IOPS (0: none)";
    }
}
