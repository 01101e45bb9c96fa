package dev.strata.node.engine.hostpath;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.DirectoryTrees.TreeFill;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.FileHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Every copy the hostpath engine makes: snapshots (copies kept in the engine's own directory),
 * restores, clones and fills of a new volume from a backup. A host directory is reached only through
 * its handle, shown to the copy at a path of the engine's own ({@link ExposedDirectory}), so that
 * nothing a tenant does to the host path meanwhile redirects the copy.
 */
final class HostPathCopies implements AutoCloseable {
    private static final String PARTIAL = TreeCopy.PARTIAL;

    private final Path snapshots;
    private final Trash snapshotTrash;
    private final Path exposed;
    private final Path filling;
    private final Mounter mounter;
    private final TreeCopy copy;

    HostPathCopies(Path engineRoot, Mounter mounter, CommandRunner runner) throws IOException {
        this.snapshots = Files.createDirectories(engineRoot.resolve("snapshots"));
        this.snapshotTrash = new Trash(engineRoot.resolve("trash"));
        this.exposed = engineRoot.resolve("exposed");
        this.filling = engineRoot.resolve("filling");
        this.mounter = mounter;
        this.copy = new TreeCopy(runner);
        mounter.clearScratch(exposed); // what a crash left exposed
        Trash.deleteTree(filling); // fills a crash cut off: their volumes are deleted as never made
    }

    void snapshot(FileHandle volume, String snapshotId) throws IOException {
        try (ExposedDirectory shown = ExposedDirectory.of(volume, exposed, mounter)) {
            copy.copyOnce(shown.path(), snapshots, snapshotId);
        }
    }

    void restore(String snapshotId, FileHandle into) throws IOException {
        try (ExposedDirectory to = ExposedDirectory.of(into, exposed, mounter)) {
            copy.copyContents(snapshots.resolve(snapshotId), to.path());
        }
    }

    void clone(FileHandle from, FileHandle into) throws IOException {
        try (ExposedDirectory to = ExposedDirectory.of(into, exposed, mounter);
                ExposedDirectory shown = ExposedDirectory.of(from, exposed, mounter)) {
            copy.copyContents(shown.path(), to.path());
        }
    }

    /**
     * A fill (a restore from a backup) is written by the driver itself, by path, not by a sandboxed
     * copy; a pod that mounts a directory above the volume's could swap a directory it has just made
     * for a link to anywhere on the host. So the fill writes a tree of the engine's own, which no pod
     * reaches, and that tree goes into the volume as every other copy does: sandboxed, through the
     * handle. The engine's root holds the volume's size meanwhile (shared blocks where it is on the
     * same filesystem as the host path and that reflinks).
     */
    <T> T fill(FileHandle into, TreeFill<T> fill) throws IOException {
        Path staged = Files.createTempDirectory(Files.createDirectories(filling), "fill-");
        try {
            T filled = fill.into(staged);
            try (ExposedDirectory to = ExposedDirectory.of(into, exposed, mounter)) {
                copy.copyContents(staged, to.path());
            }
            return filled;
        } finally {
            Trash.deleteTree(staged);
        }
    }

    Path snapshotTree(String snapshotId) {
        return snapshots.resolve(snapshotId);
    }

    void deleteSnapshot(String snapshotId) throws IOException {
        snapshotTrash.discard(snapshots.resolve(PARTIAL + snapshotId));
        snapshotTrash.discard(snapshots.resolve(snapshotId));
    }

    Set<String> storedSnapshotIds() throws IOException {
        return TreeCopy.names(snapshots);
    }

    /** The snapshots' trash, for the engine's metrics. */
    Trash snapshotTrash() {
        return snapshotTrash;
    }

    @Override
    public void close() throws InterruptedException {
        snapshotTrash.close();
    }
}
