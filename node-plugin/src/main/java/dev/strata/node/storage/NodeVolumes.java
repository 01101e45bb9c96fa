package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.state.NodeState;
import dev.strata.node.state.NodeVolume;
import dev.strata.node.state.Publication;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * What the node does with a volume: stage it once, bind it into each target, and undo both. Every
 * mount is recorded before it is made and forgotten after it is undone, so the records always cover
 * what Strata mounted. Callers hold the volume's lock and have checked the request.
 */
public final class NodeVolumes {
    private final LocalStorage storage;
    private final Mounter mounter;

    public NodeVolumes(LocalStorage storage, Mounter mounter) {
        this.storage = storage;
        this.mounter = mounter;
    }

    public void stage(VolumeRecord volume, Path staging, AccessMode mode, List<String> flags) throws IOException {
        BindOptions options = BindOptions.parse("volume_capability.mount.mount_flags", flags)
                .withReadOnly(mode.readOnly());
        NodeState state = storage.nodeState();
        NodeVolume current = state.get(volume.id());
        if (current.stagingPath() != null) {
            if (!current.stagingPath().equals(staging.toString())) {
                throw CsiException.failedPrecondition("volume " + volume.id() + " is already staged at "
                        + current.stagingPath());
            }
            if (current.stageMode() != mode || !current.stageFlags().equals(flags)) {
                throw CsiException.alreadyExists("volume " + volume.id() + " is already staged at " + staging
                        + " with another capability (" + current.stageMode() + ", flags " + current.stageFlags() + ")");
            }
            return;
        }
        prepareMountPoint("staging_target_path", staging, false);
        state.put(current.staged(staging.toString(), mode, flags));
        CrashPoint.reach("node.stage.recorded");
        try {
            storage.engine(volume.engine()).stage(volume, staging, options);
        } catch (IOException | RuntimeException e) {
            state.put(current);
            throw e;
        }
    }

    /** Unstages the volume if it is staged at {@code staging}; anything else is already done. */
    public void unstage(VolumeRecord volume, Path staging) throws IOException {
        NodeVolume current = storage.nodeState().get(volume.id());
        if (!staging.toString().equals(current.stagingPath())) {
            return;
        }
        if (!current.publications().isEmpty()) {
            throw CsiException.failedPrecondition("volume " + volume.id() + " is still published at "
                    + current.publications().get(0).targetPath() + "; unpublish it first");
        }
        storage.engine(volume.engine()).unstage(volume, staging);
        CrashPoint.reach("node.unstage.unmounted");
        storage.nodeState().put(current.unstaged());
    }

    public void publish(VolumeRecord volume, Path staging, Path target, boolean readOnly, AccessMode mode,
            List<String> flags) throws IOException {
        BindOptions options = BindOptions.parse("volume_capability.mount.mount_flags", flags).withReadOnly(readOnly);
        NodeState state = storage.nodeState();
        NodeVolume current = state.get(volume.id());
        if (!staging.toString().equals(current.stagingPath())) {
            throw CsiException.failedPrecondition("volume " + volume.id() + " is not staged at " + staging
                    + (current.stagingPath() == null ? "" : " (it is staged at " + current.stagingPath() + ")"));
        }
        Publication wanted = new Publication(target.toString(), readOnly, mode, flags);
        var existing = current.publication(target.toString());
        if (existing.isPresent()) {
            if (!existing.get().equals(wanted)) {
                throw CsiException.alreadyExists("volume " + volume.id() + " is already published at " + target
                        + " with another capability or read-only setting");
            }
            return;
        }
        checkExclusive(volume.id(), mode, current);
        VolumeEngine engine = storage.engine(volume.engine());
        prepareMountPoint("target_path", target, engine.isFile(volume));
        state.put(current.with(wanted));
        CrashPoint.reach("node.publish.recorded");
        try {
            mounter.bind(engine.publishSource(volume, staging), target, options);
            CrashPoint.reach("node.publish.mounted");
        } catch (IOException | RuntimeException e) {
            state.put(current);
            removeDirectory(target);
            throw e;
        }
    }

    /** Unpublishes the volume from {@code target} if it is published there, and removes the directory. */
    public void unpublish(VolumeRecord volume, Path target) throws IOException {
        NodeVolume current = storage.nodeState().get(volume.id());
        if (current.publication(target.toString()).isEmpty()) {
            return;
        }
        mounter.unmount(target);
        CrashPoint.reach("node.unpublish.unmounted");
        storage.nodeState().put(current.without(target.toString()));
        removeDirectory(target);
    }

    /** ReadWriteOncePod: one publication, and none beside one that asked for it. */
    private static void checkExclusive(String volumeId, AccessMode mode, NodeVolume current) {
        boolean exclusiveHeld = current.publications().stream().anyMatch(p -> p.mode().singlePublication());
        if (!current.publications().isEmpty() && (mode.singlePublication() || exclusiveHeld)) {
            throw CsiException.failedPrecondition("volume " + volumeId + " is published at "
                    + current.publications().get(0).targetPath() + " for a single writer (ReadWriteOncePod)");
        }
    }

    /**
     * Creates what a mount goes on: a directory, or an empty file for a single-file volume. A
     * symbolic link there is refused, never followed, and so is anything already mounted there.
     */
    private static void prepareMountPoint(String field, Path path, boolean file) throws IOException {
        if (Files.isSymbolicLink(path)) {
            throw CsiException.invalidArgument(field, path + " is a symbolic link");
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            boolean right = file ? Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
                    : Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
            if (!right) {
                throw CsiException.invalidArgument(field, path + " exists and is not a "
                        + (file ? "file (the volume is a single file)" : "directory"));
            }
            if (MountTable.read().isMountPoint(path)) {
                throw CsiException.failedPrecondition(field + ": something else is already mounted at " + path);
            }
        } else if (file) {
            Files.createDirectories(path.getParent());
            Files.createFile(path);
        } else {
            Files.createDirectories(path);
        }
    }

    /** Removes an (empty) target directory or the empty file a file volume was mounted on. */
    private static void removeDirectory(Path dir) {
        try {
            if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                    || Files.isRegularFile(dir, LinkOption.NOFOLLOW_LINKS) && Files.size(dir) == 0) {
                Files.delete(dir);
            }
        } catch (IOException e) {
            // not empty or already gone: leave it, it is not ours to empty
        }
    }
}
