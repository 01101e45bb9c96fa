package dev.strata.backup;

import java.util.regex.Pattern;

/**
 * The rules for object keys, checked by every target so that a key can never name something outside
 * it (an absolute path, a parent directory) nor collide with a temporary file.
 */
final class TargetKeys {
    private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9._/-]*");

    private TargetKeys() {}

    static String checkKey(String key) throws BackupException {
        if (key == null || key.isEmpty() || !ALLOWED.matcher(key).matches() || key.startsWith("/")) {
            throw invalid("object key", key);
        }
        for (String segment : key.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw invalid("object key", key);
            }
        }
        return key;
    }

    /** Whether {@code key} is one a target may hold (listings leave out anything else). */
    static boolean isValid(String key) {
        try {
            checkKey(key);
            return true;
        } catch (BackupException e) {
            return false;
        }
    }

    /** A prefix is a key that may stop anywhere: mid-segment or right after a '/'. */
    static String checkPrefix(String prefix) throws BackupException {
        if (prefix == null || !ALLOWED.matcher(prefix).matches() || prefix.startsWith("/")) {
            throw invalid("key prefix", prefix);
        }
        String[] segments = prefix.split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            boolean last = i == segments.length - 1;
            String segment = segments[i];
            if ((segment.isEmpty() && !last) || segment.equals("..") || (segment.equals(".") && !last)) {
                throw invalid("key prefix", prefix);
            }
        }
        return prefix;
    }

    private static BackupException invalid(String what, String value) {
        return new BackupException(BackupException.Kind.INVALID,
                "invalid " + what + " '" + value + "': only [A-Za-z0-9._/-], no empty, '.' or '..' segment, no leading '/'");
    }
}
