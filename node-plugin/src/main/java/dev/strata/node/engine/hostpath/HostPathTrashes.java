package dev.strata.node.engine.hostpath;

import dev.strata.common.CsiException;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.hostpath.HostPaths.HostPath;
import dev.strata.node.sys.FileHandle;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Each host path root has its own trash, on its own filesystem, so that discarding is a rename. */
final class HostPathTrashes implements AutoCloseable {
    private static final String TRASH = HostPaths.RESERVED_PREFIX + "-trash";

    private final Map<Path, Trash> trashes = new HashMap<>();

    /**
     * Moves the directory into its root's trash, through the handle of the directory above it. When
     * a directory on the way is gone or was replaced by a link, what is there now is not what Strata
     * made, and is left alone.
     */
    void discard(HostPath path) throws IOException {
        String name = path.relative().getFileName().toString();
        try (FileHandle parent = HostPaths.openParent(path, "volume_id"); FileHandle entry = parent.child(name)) {
            if (entry.stat().isDirectory()) {
                trash(path.root()).discard(parent, name, tree -> { });
            }
        } catch (NoSuchFileException | CsiException e) {
            // nothing of Strata's to remove
        }
    }

    /** Every root's trash used so far, for the metrics. */
    synchronized List<Trash> all() {
        return List.copyOf(trashes.values());
    }

    private synchronized Trash trash(Path root) throws IOException {
        Trash trash = trashes.get(root);
        if (trash == null) {
            trash = new Trash(root.resolve(TRASH));
            trashes.put(root, trash);
        }
        return trash;
    }

    @Override
    public synchronized void close() throws InterruptedException {
        for (Trash t : trashes.values()) {
            t.close();
        }
    }
}
