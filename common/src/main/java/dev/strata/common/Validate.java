package dev.strata.common;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Request checks shared by every service. Each failure is INVALID_ARGUMENT with a message that starts
 * with the field's name, so a caller knows what to fix.
 */
public final class Validate {
    /** CSI's limit for string fields such as names and IDs. */
    public static final int MAX_STRING_BYTES = 128;
    /** CSI's limit for a whole map of parameters or context. */
    public static final int MAX_MAP_BYTES = 4096;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private Validate() {}

    public static String required(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw CsiException.invalidArgument(field, "required");
        }
        return value;
    }

    /**
     * A CO-chosen name: any text of at most 128 bytes without the control characters CSI bans
     * (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+007F-U+009F).
     */
    public static String name(String field, String value) {
        required(field, value);
        if (value.getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES) {
            throw CsiException.invalidArgument(field, "longer than " + MAX_STRING_BYTES + " bytes");
        }
        if (value.chars().anyMatch(Validate::bannedInName)) {
            throw CsiException.invalidArgument(field, "contains a control character: " + printable(value));
        }
        return value;
    }

    private static boolean bannedInName(int c) {
        return c <= 0x08 || c == 0x0b || c == 0x0c || (c >= 0x0e && c <= 0x1f) || (c >= 0x7f && c <= 0x9f);
    }

    /**
     * An ID this plugin hands out: letters, digits, '.', '_' and '-', never a path. Anything else is
     * refused before it reaches storage, so an ID can never name a file outside its root.
     */
    public static String id(String field, String value) {
        required(field, value);
        if (value.length() > MAX_STRING_BYTES || !ID.matcher(value).matches()) {
            throw CsiException.invalidArgument(field, "not a valid ID: " + printable(value));
        }
        return value;
    }

    /** A host path given by the CO (staging or target path): absolute, with no '.' or '..' in it. */
    public static Path absolutePath(String field, String value) {
        required(field, value);
        if (value.indexOf('\0') >= 0) {
            throw CsiException.invalidArgument(field, "contains NUL");
        }
        if (!value.startsWith("/")) {
            throw CsiException.invalidArgument(field, "must be an absolute path: " + printable(value));
        }
        for (String part : value.split("/")) {
            if (part.equals("..") || part.equals(".")) {
                throw CsiException.invalidArgument(field, "must not contain '.' or '..': " + printable(value));
            }
        }
        if (value.length() > 4096) {
            throw CsiException.invalidArgument(field, "longer than 4096 characters");
        }
        return Path.of(value);
    }

    public static Map<String, String> map(String field, Map<String, String> value) {
        int bytes = 0;
        for (Map.Entry<String, String> e : value.entrySet()) {
            bytes += e.getKey().getBytes(StandardCharsets.UTF_8).length
                    + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (bytes > MAX_MAP_BYTES) {
            throw CsiException.invalidArgument(field, "larger than " + MAX_MAP_BYTES + " bytes");
        }
        return value;
    }

    /** Quotes a value for an error message, escaping control characters. */
    public static String printable(String value) {
        StringBuilder out = new StringBuilder("\"");
        value.codePoints().limit(200).forEach(c -> {
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.append('"').toString();
    }
}
