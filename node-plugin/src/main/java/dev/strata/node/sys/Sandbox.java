package dev.strata.node.sys;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a tool over a tenant's files with nothing else of the host in reach. A copy of a tree that a
 * pod may be changing at the same moment (a snapshot of a volume in use) reads paths the pod can
 * swap for symbolic links between the copier's look and its open: outside a sandbox, a link to
 * {@code /etc} copies the host's secrets into the snapshot. Inside, the tool sees only the system's
 * programs (read-only), the tree it reads ({@code /src}, read-only) and the one it writes
 * ({@code /dst}); a link can lead nowhere else. Built with bubblewrap (Debian's {@code bubblewrap}),
 * the tool made for this, in its own mount, PID, network and IPC namespaces.
 */
public final class Sandbox {
    /** What the tool reads. */
    public static final String SOURCE = "/src";
    /** What the tool writes. */
    public static final String TARGET = "/dst";
    private static final List<String> SYSTEM_DIRS = List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");

    /** One host path made visible inside, at {@code inside}. */
    public record Bind(Path host, String inside, boolean writable) {
        public static Bind readOnly(Path host, String inside) {
            return new Bind(host, inside, false);
        }

        public static Bind writable(Path host, String inside) {
            return new Bind(host, inside, true);
        }
    }

    private Sandbox() {}

    /**
     * The command line that runs {@code command} inside, with {@code binds} and the system's
     * programs. Host paths are the driver's own: a tenant's directory is shown at one first.
     */
    public static List<String> command(List<Bind> binds, List<String> command) {
        List<String> line = new ArrayList<>(List.of("bwrap", "--unshare-ipc", "--unshare-net", "--unshare-uts",
                "--unshare-pid", "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"));
        for (String dir : SYSTEM_DIRS) {
            Path path = Path.of(dir);
            if (Files.isSymbolicLink(path)) {
                line.addAll(List.of("--symlink", readLink(path), dir));
            } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                line.addAll(List.of("--ro-bind", dir, dir));
            }
        }
        for (Bind b : binds) {
            line.addAll(List.of(b.writable() ? "--bind" : "--ro-bind", b.host().toString(), b.inside()));
        }
        line.addAll(List.of("--chdir", "/", "--"));
        line.addAll(command);
        return line;
    }

    private static String readLink(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
