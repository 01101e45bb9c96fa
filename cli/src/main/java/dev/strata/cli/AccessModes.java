package dev.strata.cli;

import dev.strata.csi.v1.VolumeCapability;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import picocli.CommandLine;

/** CSI access modes as the CLI spells them ({@code single-node-writer}) and the capabilities built from them. */
final class AccessModes {
    static final String DEFAULT = "single-node-writer";

    private AccessModes() {}

    static String spell(Mode mode) {
        return mode.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** A mount (or raw block) capability with the given access mode. */
    static VolumeCapability capability(Mode mode, boolean block) {
        VolumeCapability.Builder cap = VolumeCapability.newBuilder()
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode));
        if (block) {
            cap.setBlock(VolumeCapability.BlockVolume.getDefaultInstance());
        } else {
            cap.setMount(VolumeCapability.MountVolume.getDefaultInstance());
        }
        return cap.build();
    }

    private static boolean real(Mode mode) {
        return mode != Mode.UNKNOWN && mode != Mode.UNRECOGNIZED;
    }

    static final class Converter implements CommandLine.ITypeConverter<Mode> {
        @Override
        public Mode convert(String value) {
            return Arrays.stream(Mode.values()).filter(AccessModes::real)
                    .filter(m -> spell(m).equals(value.toLowerCase(Locale.ROOT).replace('_', '-')))
                    .findFirst()
                    .orElseThrow(() -> new CommandLine.TypeConversionException("unknown access mode '" + value
                            + "' (one of: " + String.join(", ", new Candidates()) + ")"));
        }
    }

    /** For --help and shell completion. */
    static final class Candidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(Mode.values()).filter(AccessModes::real).map(AccessModes::spell).iterator();
        }
    }
}
