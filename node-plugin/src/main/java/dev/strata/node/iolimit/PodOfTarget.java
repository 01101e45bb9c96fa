package dev.strata.node.iolimit;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The pod a NodePublishVolume target belongs to, read from where kubelet puts targets:
 * {@code …/pods/UID/volumes/kubernetes.io~csi/NAME/mount} for a filesystem and
 * {@code …/plugins/kubernetes.io/csi/volumeDevices/publish/NAME/UID} for a raw block volume.
 * Other targets (stratactl's, csi-sanity's) have no pod.
 */
final class PodOfTarget {
    /** A UUID, or a static pod's hash: never a path step. */
    private static final Pattern UID = Pattern.compile("[0-9a-fA-F][0-9a-fA-F-]{7,63}");

    private PodOfTarget() {}

    static Optional<String> uid(Path target) {
        int n = target.getNameCount();
        for (int i = 0; i + 2 < n; i++) {
            if (name(target, i).equals("pods") && name(target, i + 2).equals("volumes")) {
                return checked(name(target, i + 1));
            }
        }
        if (n >= 4 && name(target, n - 4).equals("volumeDevices") && name(target, n - 3).equals("publish")) {
            return checked(name(target, n - 1));
        }
        return Optional.empty();
    }

    private static String name(Path p, int i) {
        return p.getName(i).toString();
    }

    private static Optional<String> checked(String uid) {
        return UID.matcher(uid).matches() ? Optional.of(uid) : Optional.empty();
    }
}
