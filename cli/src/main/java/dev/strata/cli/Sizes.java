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

    /** picocli converter: a bad size is a usage error (exit 2). */
    static final class Converter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
