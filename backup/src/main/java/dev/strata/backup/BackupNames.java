package dev.strata.backup;

import java.util.regex.Pattern;

/** The rule for backup names: safe as an object key and as a Kubernetes-style name. */
final class BackupNames {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{0,127}");

    private BackupNames() {}

    static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    static String check(String name, String what) throws BackupException {
        if (!isValid(name)) {
            throw new BackupException(BackupException.Kind.INVALID,
                    "invalid " + what + " '" + name + "': expected [a-z0-9][a-z0-9.-]{0,127}");
        }
        return name;
    }
}
