package dev.strata.cli;

import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Names of new volumes and snapshots, validated as docker validates a local volume's name, before
 * anything is sent to the driver.
 */
final class Names {
    static final String ALLOWED = "[a-zA-Z0-9][a-zA-Z0-9_.-]";
    private static final Pattern VALID = Pattern.compile(ALLOWED + "+");

    private Names() {}

    static String check(String name) {
        if (!VALID.matcher(name).matches()) {
            throw new IllegalArgumentException("\"" + name + "\" includes invalid characters for a name, only \""
                    + ALLOWED + "\" are allowed" + (name.length() < 2 ? ", and at least 2 of them" : ""));
        }
        return name;
    }

    /** picocli converter: a bad name is a usage error (exit 2). */
    static final class Converter implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return check(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
