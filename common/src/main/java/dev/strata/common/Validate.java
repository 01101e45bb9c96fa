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

    /** The kernel's limits: NAME_MAX bytes in a path component, PATH_MAX in a whole path. */
    public static final int NAME_MAX = 255;
    public static final int PATH_MAX = 4096;

    /**
     * A host path given by the CO (staging or target path): absolute, with no '.' or '..' in it, and
     * within the kernel's limits (a longer one would fail later with an error that is not the caller's).
     */
    public static Path absolutePath(String field, String value) {
        required(field, value);
        if (value.indexOf('\0') >= 0) {
            throw CsiException.invalidArgument(field, "contains NUL");
        }
        if (!value.startsWith("/")) {
            throw CsiException.invalidArgument(field, "must be an absolute path: " + printable(value));
        }
        if (value.getBytes(StandardCharsets.UTF_8).length >= PATH_MAX) {
            throw CsiException.invalidArgument(field, "longer than " + (PATH_MAX - 1) + " bytes, the kernel's limit");
        }
        for (String part : value.split("/")) {
            if (part.equals("..") || part.equals(".")) {
                throw CsiException.invalidArgument(field, "must not contain '.' or '..': " + printable(value));
            }
            pathComponent(field, part);
        }
        return Path.of(value);
    }

    /** One component of a path: at most {@link #NAME_MAX} bytes, as the kernel allows. */
    public static String pathComponent(String field, String value) {
        if (value.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
            throw CsiException.invalidArgument(field, "has a path component longer than " + NAME_MAX + " bytes: "
                    + printable(value));
        }
        return value;
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

    /** Quotes a value for an error message, escaping control characters (the first 200 characters). */
    public static String printable(String value) {
        return "\"" + escape(value.codePoints().limit(200)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString()) + "\"";
    }

    /**
     * The text with every control character (C0, DEL, C1) written as {@code \xNN}, so that a value
     * from a caller cannot start a new log line or forge one, in a log or in an error message.
     */
    public static String escape(String value) {
        if (value.chars().noneMatch(Validate::isControl)) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length() + 16);
        value.codePoints().forEach(c -> {
            if (isControl(c)) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    private static boolean isControl(int c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f);
    }
}
