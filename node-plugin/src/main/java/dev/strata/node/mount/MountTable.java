package dev.strata.node.mount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's view of what is mounted, read from /proc/self/mountinfo. Bind mounts of a directory on
 * the same filesystem share its device number, so this file, not stat(2), says what is a mount point.
 */
public final class MountTable {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** One line of mountinfo: the mount point, what of its filesystem it shows, and its options. */
    public record Entry(int id, int parentId, String majorMinor, String root, Path mountPoint, String options,
            String fsType, String source, String superOptions) {
        public boolean readOnly() {
            return List.of(options.split(",")).contains("ro");
        }
    }

    private final List<Entry> entries;

    private MountTable(List<Entry> entries) {
        this.entries = entries;
    }

    public static MountTable read() {
        try {
            return parse(Files.readAllLines(MOUNTINFO));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + MOUNTINFO, e);
        }
    }

    static MountTable parse(List<String> lines) {
        List<Entry> entries = new ArrayList<>(lines.size());
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 10 || dash < 6) {
                continue;
            }
            entries.add(new Entry(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2], unescape(f[3]),
                    Path.of(unescape(f[4])), f[5], f[dash + 1], unescape(f[dash + 2]),
                    dash + 3 < f.length ? f[dash + 3] : ""));
        }
        return new MountTable(List.copyOf(entries));
    }

    /** mountinfo escapes space, tab, newline and backslash as three octal digits. */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    public List<Entry> entries() {
        return entries;
    }

    /**
     * The topmost mount at exactly this path, if any. The kernel lists mount points with symbolic
     * links resolved, so the path's parent is resolved the same way before comparing (the last
     * component is not followed: a mount point is never looked up through a link).
     */
    public Optional<Entry> at(Path mountPoint) {
        Path wanted = resolveParent(mountPoint.toAbsolutePath().normalize());
        Entry found = null;
        for (Entry e : entries) {
            if (e.mountPoint().equals(wanted)) {
                found = e; // later lines are mounted on top of earlier ones
            }
        }
        return Optional.ofNullable(found);
    }

    private static Path resolveParent(Path path) {
        Path parent = path.getParent();
        if (parent == null) {
            return path;
        }
        try {
            return parent.toRealPath().resolve(path.getFileName());
        } catch (IOException e) {
            return path; // a parent that does not exist has nothing mounted below it
        }
    }

    /** The mount that holds {@code path} (an existing path): the one with the longest matching mount point. */
    public Optional<Entry> containing(Path path) throws IOException {
        Path real = path.toRealPath();
        Entry found = null;
        for (Entry e : entries) {
            if (real.startsWith(e.mountPoint())
                    && (found == null || e.mountPoint().getNameCount() >= found.mountPoint().getNameCount())) {
                found = e;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Every mount that shows {@code dir} or something inside it (a bind mount of it, or of a file or
     * directory below it), wherever it is mounted: found by the filesystem and the path within it,
     * which the kernel keeps for each mount, not by where it is mounted. {@code dir} must exist.
     */
    public List<Entry> showing(Path dir) throws IOException {
        Path real = dir.toRealPath();
        Entry holder = containing(real).orElseThrow(() -> new IOException("no mount holds " + real));
        Path within = Path.of(holder.root()).resolve(holder.mountPoint().relativize(real));
        List<Entry> found = new ArrayList<>();
        for (Entry e : entries) {
            if (e.majorMinor().equals(holder.majorMinor()) && Path.of(e.root()).startsWith(within)) {
                found.add(e);
            }
        }
        return found;
    }

    public boolean isMountPoint(Path path) {
        return at(path).isPresent();
    }

    /** Every mount point at or below {@code root}, deepest first (the order to unmount them in). */
    public List<Path> under(Path root) {
        List<Path> found = new ArrayList<>();
        for (Entry e : entries) {
            if (e.mountPoint().startsWith(root)) {
                found.add(e.mountPoint());
            }
        }
        found.sort((a, b) -> Integer.compare(b.getNameCount(), a.getNameCount()));
        return found;
    }
}
