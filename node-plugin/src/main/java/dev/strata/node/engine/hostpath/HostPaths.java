package dev.strata.node.engine.hostpath;

import dev.strata.common.CsiException;
import dev.strata.common.Validate;
import dev.strata.node.sys.FileHandle;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The allowlist of host directories that hostpath volumes may use, and the only way to turn a
 * request or a record into a host path and a host path into a handle. A path is an allowed root
 * plus components, each a plain name ({@code .}, {@code ..} and Strata's reserved names refused).
 * The components lie in a tenant's reach (a pod of a volume above them can replace a directory by a
 * link at any time), so they are never followed by path: {@link #open} resolves them below the
 * root with openat2, refusing a symbolic link anywhere, and every use goes through that handle.
 */
public final class HostPaths {
    /** StorageClass parameters: the allowed root to use, and where under it a volume goes. */
    public static final String ROOT = "root";
    public static final String PATH_PATTERN = "pathPattern";
    static final String DEFAULT_PATTERN = "${pv.name}";
    /** Names Strata keeps for itself under a root (its trash): no volume may use or reach them. */
    static final String RESERVED_PREFIX = ".strata";
    /** Mode of the directories Strata makes under a root: Docker's for {@code -v} host directories. */
    static final int DIRECTORY_MODE = 0755;
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([a-z.]+)}");
    /** Pattern variables and the parameters the external-provisioner fills them from. */
    private static final Map<String, String> VARIABLES = Map.of(
            "pvc.namespace", "csi.storage.k8s.io/pvc/namespace",
            "pvc.name", "csi.storage.k8s.io/pvc/name",
            "pv.name", "csi.storage.k8s.io/pv/name");

    /** A host path: an allowed root and the path below it. */
    public record HostPath(Path root, Path relative) {
        public Path absolute() {
            return root.resolve(relative);
        }

        /** Whether this path is {@code other} or lies below it. */
        boolean within(HostPath other) {
            return root.equals(other.root) && relative.startsWith(other.relative);
        }

        @Override
        public String toString() {
            return absolute().toString();
        }
    }

    private final List<Path> roots;

    public HostPaths(List<Path> roots) {
        this.roots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    public List<Path> roots() {
        return roots;
    }

    /** The allowed root a StorageClass names (the only one, when the node allows just one). */
    Path root(Map<String, String> parameters) {
        String named = parameters.get(ROOT);
        if (named == null) {
            if (roots.size() == 1) {
                return roots.get(0);
            }
            throw CsiException.invalidArgument("parameters." + ROOT, roots.isEmpty()
                    ? "this node allows no hostpath root (start it with --hostpath-root)"
                    : "required: one of " + roots);
        }
        Path root = Path.of(named).normalize();
        if (!root.isAbsolute() || !roots.contains(root)) {
            throw CsiException.invalidArgument("parameters." + ROOT, Validate.printable(named)
                    + " is not an allowed hostpath root " + roots);
        }
        return root;
    }

    /**
     * Where a new volume goes: its root plus the pattern, with each variable replaced by one path
     * component (a value holding '/', or being '.' or '..', is refused).
     */
    HostPath volumePath(Map<String, String> parameters, String volumeName) {
        Path root = root(parameters);
        String pattern = parameters.getOrDefault(PATH_PATTERN, DEFAULT_PATTERN);
        Matcher m = VARIABLE.matcher(pattern);
        StringBuilder relative = new StringBuilder();
        while (m.find()) {
            String key = VARIABLES.get(m.group(1));
            if (key == null) {
                throw CsiException.invalidArgument("parameters." + PATH_PATTERN, "unknown variable ${" + m.group(1)
                        + "} (known: ${pvc.namespace}, ${pvc.name}, ${pv.name})");
            }
            String value = parameters.getOrDefault(key, m.group(1).equals("pv.name") ? volumeName : null);
            if (value == null) {
                throw CsiException.invalidArgument("parameters." + key, "needed by " + PATH_PATTERN
                        + " (run the provisioner with --extra-create-metadata)");
            }
            m.appendReplacement(relative, Matcher.quoteReplacement(component("parameters." + key, value)));
        }
        m.appendTail(relative);
        return under(root, relative.toString(), "parameters." + PATH_PATTERN);
    }

    /** A static volume's handle: an absolute path below an allowed root. */
    public HostPath staticPath(String handle) {
        Path path = Path.of(handle).normalize();
        for (Path root : roots) {
            if (path.startsWith(root) && !path.equals(root)) {
                return under(root, root.relativize(Path.of(handle)).toString(), "volume_id");
            }
        }
        throw CsiException.invalidArgument("volume_id", Validate.printable(handle)
                + " is not under an allowed hostpath root " + roots);
    }

    /** The host path a record names (written by this class, so it lies below a root). */
    HostPath recorded(String absolute) {
        Path path = Path.of(absolute);
        return roots.stream().filter(r -> path.startsWith(r) && !path.equals(r)).findFirst()
                .map(r -> new HostPath(r, r.relativize(path)))
                .orElseThrow(() -> new IllegalStateException(absolute + " is under no allowed root " + roots));
    }

    /** root/relative from the text of a pattern or handle: plain components only. */
    private static HostPath under(Path root, String relative, String field) {
        Path path = Path.of("");
        for (String part : relative.split("/")) {
            if (!part.isEmpty()) {
                path = path.resolve(component(field, part));
            }
        }
        if (path.toString().isEmpty()) {
            throw CsiException.invalidArgument(field, "names the root itself");
        }
        return new HostPath(root, path);
    }

    private static String component(String field, String value) {
        if (value.isEmpty() || value.equals(".") || value.equals("..") || value.contains("/")
                || value.indexOf('\0') >= 0) {
            throw CsiException.invalidArgument(field, Validate.printable(value) + " is not a single path component");
        }
        if (value.startsWith(RESERVED_PREFIX)) {
            throw CsiException.invalidArgument(field, Validate.printable(value) + " is reserved for Strata's own "
                    + "use (names starting " + RESERVED_PREFIX + ")");
        }
        Validate.pathComponent(field, value);
        return value;
    }

    /**
     * A handle on the host path, resolved below its root without following a link anywhere; a link
     * on the way is INVALID_ARGUMENT naming {@code field}, a missing component NoSuchFileException.
     */
    static FileHandle open(HostPath path, String field) throws IOException {
        try (FileHandle root = FileHandle.open(path.root())) {
            return root.beneath(path.relative().toString(), 0);
        } catch (FileHandle.SymbolicLinkException e) {
            throw CsiException.invalidArgument(field, path + " is reached through a symbolic link; hostpath "
                    + "volumes never follow one");
        } catch (java.nio.file.NotDirectoryException e) {
            throw new NoSuchFileException(path.toString(), null, "a file stands where a directory of the path should be");
        }
    }

    /** The directory that holds the host path, resolved as {@link #open} does. */
    static FileHandle openParent(HostPath path, String field) throws IOException {
        Path parent = path.relative().getParent();
        return open(new HostPath(path.root(), parent == null ? Path.of("") : parent), field);
    }

    /** Whether the host path exists (a link on the way is refused as {@link #open} refuses it). */
    static boolean exists(HostPath path, String field) throws IOException {
        try (FileHandle h = open(path, field)) {
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /**
     * Creates the missing directories of {@code path} one by one, each through the handle of the
     * one above (mode {@link #DIRECTORY_MODE}); true when the last one was created.
     */
    static boolean createDirectories(HostPath path) throws IOException {
        FileHandle current = FileHandle.open(path.root());
        boolean created = false;
        try {
            for (Path part : path.relative()) {
                String name = part.toString();
                created = false;
                FileHandle next;
                try {
                    next = current.child(name);
                } catch (NoSuchFileException e) {
                    current.mkdir(name, DIRECTORY_MODE);
                    try (FileHandle dir = current.readable()) {
                        dir.sync(); // the new entry survives a power cut before the volume is READY
                    }
                    created = true;
                    next = current.child(name);
                }
                FileHandle.Stat stat = next.stat();
                current.close();
                current = next;
                if (stat.isSymbolicLink()) {
                    throw CsiException.invalidArgument("parameters." + PATH_PATTERN, current.name()
                            + " is a symbolic link; hostpath volumes never follow one");
                }
                if (!stat.isDirectory()) {
                    throw CsiException.failedPrecondition(current.name() + " exists and is not a directory");
                }
            }
            return created;
        } finally {
            current.close();
        }
    }
}
