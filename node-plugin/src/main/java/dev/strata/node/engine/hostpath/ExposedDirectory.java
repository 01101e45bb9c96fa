package dev.strata.node.engine.hostpath;

import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountPoint;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.FileHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A host directory resolved into a handle, shown to a tool at a path of the engine's own: a bind
 * mount of exactly what the handle pins, under the engine's directory (where no tenant can reach),
 * for as long as the tool runs. A copy in the sandbox is then given a plain path that cannot be
 * redirected, whatever the tenant does to the host path meanwhile.
 */
final class ExposedDirectory implements AutoCloseable {
    private final Path path;
    private final Mounter mounter;

    private ExposedDirectory(Path path, Mounter mounter) {
        this.path = path;
        this.mounter = mounter;
    }

    static ExposedDirectory of(FileHandle directory, Path scratch, Mounter mounter) throws IOException {
        Path path = Files.createDirectories(scratch).resolve(UUID.randomUUID().toString());
        Files.createDirectory(path);
        try (MountPoint at = MountPoint.at(path)) {
            mounter.bind(directory, at, BindOptions.NONE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
        return new ExposedDirectory(path, mounter);
    }

    Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        mounter.detach(path);
        Files.deleteIfExists(path);
    }
}
