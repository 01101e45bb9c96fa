package dev.strata.cli;

import dev.strata.common.Quantities;
import picocli.CommandLine;

/** Byte sizes on the command line, as Kubernetes writes them (see {@link Quantities}). */
final class Sizes {
    private Sizes() {}

    static long parse(String text) {
        return Quantities.parse(text);
    }

    static String human(long bytes) {
        return Quantities.human(bytes);
    }

    /**
     * picocli converter: a bad size is a usage error (exit 2). Zero is one: CSI reads a capacity of 0
     * as "no requirement", so the driver would pick a size the user never asked for.
     */
    static final class Converter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long bytes;
            try {
                bytes = parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
            if (bytes == 0) {
                throw new CommandLine.TypeConversionException("a size of 0 is not a size (examples: 1Gi, 512Mi, 10G)");
            }
            return bytes;
        }
    }
}
