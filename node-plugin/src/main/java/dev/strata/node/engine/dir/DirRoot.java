package dev.strata.node.engine.dir;

import dev.strata.common.CsiException;
import java.io.IOException;
import dev.strata.node.sys.Posix;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code mode}, {@code uid} and {@code gid} parameters of a directory volume: who owns its root
 * and who may write there (Kubernetes pods often run as a non-root user).
 */
final class DirRoot {
    static final String MODE = "mode";
    static final String UID = "uid";
    static final String GID = "gid";
    /** A new volume's root without a {@code mode}: Docker's for a new named volume. */
    static final int DEFAULT_MODE = 0755;

    private DirRoot() {}

    /** Checks the values without applying them, so a bad request changes nothing. */
    static void validate(String field, Map<String, String> parameters) {
        parse(field, parameters, MODE, 8, 07777);
        parse(field, parameters, UID, 10, Integer.MAX_VALUE);
        parse(field, parameters, GID, 10, Integer.MAX_VALUE);
    }

    static void apply(Path root, Map<String, String> parameters) throws IOException {
        Integer mode = parse("parameters", parameters, MODE, 8, 07777);
        Integer uid = parse("parameters", parameters, UID, 10, Integer.MAX_VALUE);
        Integer gid = parse("parameters", parameters, GID, 10, Integer.MAX_VALUE);
        if (uid != null || gid != null) {
            Posix.lchown(root, uid == null ? -1 : uid, gid == null ? -1 : gid);
        }
        if (mode != null) {
            Posix.chmod(root, mode);
        }
    }

    private static Integer parse(String field, Map<String, String> parameters, String key, int radix, int max) {
        String text = parameters.get(key);
        if (text == null) {
            return null;
        }
        try {
            int value = Integer.parseInt(text, radix);
            if (value < 0 || value > max) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw CsiException.invalidArgument(field + "." + key, "invalid value \"" + text + "\" ("
                    + (radix == 8 ? "octal permission bits, e.g. 0775" : "a numeric ID") + ")");
        }
    }
}
