package dev.strata.node.engine.hostpath;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.hostpath.HostPaths.HostPath;
import dev.strata.node.engine.size.ProjectQuota;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.engine.size.SizeLimit.Limited;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.FileHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Hard sizes for the host directories Strata makes: a project quota where the directory's own
 * filesystem has them (xfs, or ext4 mounted with {@code prjquota}), set through the directory's
 * handle. Nothing else can hold a host directory to a size. An image of its own mounted at the host
 * path would be a second mount of what kubelet stages, and kubelet unstages a volume only while no
 * mount outside its own directory shows the same filesystem at the same path; and the host would find
 * a mount point where it asked for a directory. So elsewhere, and for a directory that was there
 * before the volume (not Strata's), the volume shares its filesystem's free space, and its attribute
 * {@code sizeLimit} says {@value SizeLimit#NONE}. A volume's project ID is kept in its home, in the
 * engine's directory, which the last volume of a shared directory inherits.
 */
final class HostPathSizes {
    private final Path homes;
    private final Path exposed;
    private final Mounter mounter;
    private final CommandRunner runner;

    HostPathSizes(Path engineRoot, Mounter mounter, CommandRunner runner) throws IOException {
        this.homes = Files.createDirectories(engineRoot.resolve("sized"));
        this.exposed = engineRoot.resolve("exposed-sizes");
        this.mounter = mounter;
        this.runner = runner;
        mounter.clearScratch(exposed); // what a crash left exposed
    }

    /** Holds a directory the volume has just made to its size, where its filesystem can. */
    void limit(VolumeRecord volume, FileHandle dir) throws IOException {
        if (volume.capacityBytes() <= 0 || !SizeLimit.wanted(volume.parameters())) {
            return;
        }
        Optional<ProjectQuota> quota = ProjectQuota.on(dir.realPath(), runner);
        if (quota.isEmpty()) {
            return;
        }
        Path home = Files.createDirectories(home(volume.id()));
        // xfs_quota walks the directory by path: it is shown the handle's directory, not the host path.
        try (ExposedDirectory shown = ExposedDirectory.of(dir, exposed, mounter)) {
            quota.get().create(new Limited(home, shown.path()), volume.id(), volume.capacityBytes());
        }
    }

    /** Raises the limit of a volume that has one; the volume may be in use. */
    void expand(String volumeId, HostPath path, long bytes) throws IOException {
        if (!holds(volumeId)) {
            return;
        }
        ProjectQuota quota = quotaAt(path).orElseThrow(() -> new IOException(path + " no longer shows project "
                + "quotas, which hold volume " + volumeId + " to its size"));
        quota.expand(place(volumeId, path), bytes);
    }

    /** Lifts the limit before the directory goes, and forgets it. */
    void release(String volumeId, HostPath path) throws IOException {
        if (!holds(volumeId)) {
            return;
        }
        Optional<ProjectQuota> quota = quotaAt(path);
        if (quota.isPresent()) {
            quota.get().release(place(volumeId, path));
        }
        Trash.deleteTree(home(volumeId));
    }

    /** The directory stays with another volume that names it: the limit goes with it. */
    void handOver(String volumeId, String heir) throws IOException {
        if (holds(volumeId)) {
            AtomicFile.rename(home(volumeId), home(heir));
        }
    }

    /** How the volume is held to its size: the quota's name, or {@value SizeLimit#NONE}. */
    String mechanism(String volumeId, HostPath path) throws IOException {
        if (!holds(volumeId)) {
            return SizeLimit.NONE;
        }
        Optional<ProjectQuota> quota = quotaAt(path);
        return quota.isPresent() && quota.get().holds(home(volumeId)) ? quota.get().name() : SizeLimit.NONE;
    }

    private boolean holds(String volumeId) {
        return Files.isDirectory(home(volumeId), LinkOption.NOFOLLOW_LINKS);
    }

    private Path home(String volumeId) {
        return homes.resolve(volumeId);
    }

    private Limited place(String volumeId, HostPath path) {
        return new Limited(home(volumeId), path.absolute());
    }

    /** The quotas of the filesystem the host directory is on now, found through its handle. */
    private Optional<ProjectQuota> quotaAt(HostPath path) throws IOException {
        try (FileHandle dir = HostPaths.open(path, "volume_id")) {
            return ProjectQuota.on(dir.realPath(), runner);
        } catch (NoSuchFileException | CsiException e) {
            return Optional.empty(); // gone, or a link is there now: not the directory that was limited
        }
    }
}
