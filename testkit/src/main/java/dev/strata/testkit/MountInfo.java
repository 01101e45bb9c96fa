package dev.strata.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The kernel's mount table as the tests see it, read from /proc/self/mountinfo independently of the
 * driver's own parser, and lazy unmounts for cleaning up what a test leaked.
 */
public final class MountInfo {
    /** One mount: where it is and its per-mount options (ro, noexec, ...). */
    public record Mount(Path point, Set<String> options) {}

    private MountInfo() {}

    public static List<Mount> read() {
        try {
            List<Mount> mounts = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                mounts.add(new Mount(Path.of(unescape(f[4])), Set.of(f[5].split(","))));
            }
            return mounts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The topmost mount at exactly {@code point}. */
    public static Optional<Mount> at(Path point) {
        Mount found = null;
        for (Mount m : read()) {
            if (m.point().equals(point)) {
                found = m;
            }
        }
        return Optional.ofNullable(found);
    }

    public static boolean isMountPoint(Path point) {
        return at(point).isPresent();
    }

    /** Mount points at or below {@code root}, deepest first. */
    public static List<Path> under(Path root) {
        return read().stream().map(Mount::point).filter(p -> p.startsWith(root)).distinct()
                .sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
    }

    /** Lazily unmounts everything at or below {@code root}; returns what was mounted there. */
    public static List<Path> unmountAllUnder(Path root) {
        List<Path> leaked = under(root);
        for (int round = 0; round < 10 && !under(root).isEmpty(); round++) {
            for (Path p : under(root)) {
                try {
                    new ProcessBuilder("umount", "-l", p.toString()).inheritIO().start().waitFor();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return leaked;
                }
            }
        }
        return leaked;
    }

    private static String unescape(String field) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
