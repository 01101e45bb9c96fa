package dev.strata.node.engine.hostpath;

import dev.strata.common.CsiException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The allowlist of host directories that hostpath volumes may use, and the only way to turn a
 * request into a host path: every path is checked to lie under an allowed root, component by
 * component, without following a symbolic link anywhere below the root.
 */
public final class HostPaths {
    /** StorageClass parameters: the allowed root to use, and where under it a volume goes. */
    public static final String ROOT = "root";
    public static final String PATH_PATTERN = "pathPattern";
    static final String DEFAULT_PATTERN = "${pv.name}";
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([a-z.]+)}");
    /** Pattern variables and the parameters the external-provisioner fills them from. */
    private static final Map<String, String> VARIABLES = Map.of(
            "pvc.namespace", "csi.storage.k8s.io/pvc/namespace",
            "pvc.name", "csi.storage.k8s.io/pvc/name",
            "pv.name", "csi.storage.k8s.io/pv/name");

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
            throw CsiException.invalidArgument("parameters." + ROOT, named + " is not an allowed hostpath root "
                    + roots);
        }
        return root;
    }

    /**
     * Where a new volume goes: its root plus the pattern, with each variable replaced by one path
     * component (a value holding '/', or being '.' or '..', is refused).
     */
    Path volumePath(Map<String, String> parameters, String volumeName) {
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

    /** A static volume's handle: an absolute path that must lie under an allowed root. */
    public Path staticPath(String handle) {
        Path path = Path.of(handle).normalize();
        for (Path root : roots) {
            if (path.startsWith(root) && !path.equals(root)) {
                Path checked = under(root, root.relativize(path).toString(), "volume_id");
                if (!Files.exists(checked, LinkOption.NOFOLLOW_LINKS)) {
                    throw CsiException.notFound("volume_id: " + checked + " does not exist");
                }
                return checked;
            }
        }
        throw CsiException.invalidArgument("volume_id", handle + " is not under an allowed hostpath root " + roots);
    }

    /** root/relative, refusing '..', '.', empty parts and a symbolic link at any existing component. */
    private static Path under(Path root, String relative, String field) {
        Path path = root;
        for (String part : relative.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            path = path.resolve(component(field, part));
            if (Files.isSymbolicLink(path)) {
                throw CsiException.invalidArgument(field, path + " is a symbolic link; hostpath volumes never follow one");
            }
        }
        if (path.equals(root)) {
            throw CsiException.invalidArgument(field, "names the root itself");
        }
        return path;
    }

    private static String component(String field, String value) {
        if (value.isEmpty() || value.equals(".") || value.equals("..") || value.contains("/")
                || value.indexOf('\0') >= 0) {
            throw CsiException.invalidArgument(field, "\"" + value + "\" is not a single path component");
        }
        return value;
    }

    /** Creates the missing directories of {@code path} one by one; true when the last one was created. */
    static boolean createDirectories(Path root, Path path) throws IOException {
        Path current = root;
        boolean created = false;
        for (Path part : root.relativize(path)) {
            current = current.resolve(part);
            if (Files.isSymbolicLink(current)) {
                throw CsiException.invalidArgument("parameters." + PATH_PATTERN, current + " is a symbolic link");
            }
            created = !Files.exists(current, LinkOption.NOFOLLOW_LINKS);
            if (created) {
                Files.createDirectory(current);
            } else if (!Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
                throw CsiException.failedPrecondition(current + " exists and is not a directory");
            }
        }
        return created;
    }
}
