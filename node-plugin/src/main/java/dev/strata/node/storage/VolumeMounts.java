package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.iolimit.IoLimits;
import dev.strata.node.iolimit.IoThrottle;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountPoint;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import dev.strata.node.records.MountRecord;
import dev.strata.node.records.Publication;
import dev.strata.node.sys.DeviceNumber;
import dev.strata.node.sys.FileHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the node does with a volume: stage it once, bind it into each target, and undo both. Every
 * mount is recorded before it is made, with exactly what it mounts where, and forgotten only once
 * the path is checked to be no longer a mount, so the records always cover what Strata mounted.
 * Callers hold the volume's lock ({@link NodeVolumes} and {@link EphemeralVolumes} take it) and have
 * checked the request.
 *
 * <p>Staging and target paths come from the CO. They are resolved by {@link MountPoint} (a link a
 * local user could have planted is refused, and the mount goes onto what was checked), and may not
 * lie inside the driver's data directory, a hostpath root, or another staged or published volume.
 */
final class VolumeMounts {
    /** Mode of the directories made for a mount: kubelet's own. */
    private static final int MOUNT_POINT_MODE = 0750;

    private final Engines engines;
    private final MountRecords state;
    private final Mounter mounter;
    private final IoThrottle throttle;
    /** Where no volume is mounted: the driver's data and the host directories it serves. */
    private final List<Path> forbiddenPlaces;

    VolumeMounts(StorageConfig config, Engines engines, MountRecords state, Mounter mounter, IoThrottle throttle) {
        this.engines = engines;
        this.state = state;
        this.mounter = mounter;
        this.throttle = throttle;
        List<Path> forbidden = new ArrayList<>();
        forbidden.add(config.dataDir());
        forbidden.addAll(config.hostPathRoots());
        this.forbiddenPlaces = List.copyOf(forbidden);
    }

    /**
     * Stages at {@code staging}; a path of the driver's own (an inline volume's) is not the CO's to
     * check. {@code key} opens an encrypted volume.
     */
    void stage(VolumeRecord volume, Path staging, AccessMode mode, List<String> flags, VolumeKey key, boolean fromCo)
            throws IOException {
        BindOptions options = BindOptions.parse("volume_capability.mount.mount_flags", flags)
                .withReadOnly(mode.readOnly());
        MountRecord current = state.get(volume.id());
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
        VolumeEngine engine = engines.get(volume.engine());
        Path mountPoint = engine.stageMountPoint(volume, staging);
        prepareMountPoint("staging_target_path", staging, false, fromCo);
        if (!mountPoint.equals(staging)) {
            prepareMountPoint("staging_target_path", mountPoint, true, false);
        }
        state.put(current.staged(staging.toString(), mountPoint.toString(), mode, flags));
        CrashPoint.reach("node.stage.recorded");
        try {
            engine.stage(volume, mountPoint, options, key);
        } catch (IOException | RuntimeException e) {
            state.put(current);
            if (!mountPoint.equals(staging)) {
                removeEmptyEntry(mountPoint);
            }
            throw e;
        }
    }

    /** Unstages the volume if it is staged at {@code staging}; anything else is already done. */
    void unstage(VolumeRecord volume, Path staging) throws IOException {
        MountRecord current = state.get(volume.id());
        if (!staging.toString().equals(current.stagingPath())) {
            return;
        }
        if (!current.publications().isEmpty()) {
            throw CsiException.failedPrecondition("volume " + volume.id() + " is still published at "
                    + current.publications().get(0).targetPath() + "; unpublish it first");
        }
        Path mountPoint = Path.of(current.stageMountPoint());
        engines.get(volume.engine()).unstage(volume, mountPoint);
        requireUnmounted(volume, mountPoint);
        CrashPoint.reach("node.unstage.unmounted");
        if (!mountPoint.equals(staging)) {
            removeEmptyEntry(mountPoint);
        }
        state.put(current.unstaged());
    }

    void publish(VolumeRecord volume, Path staging, Path target, boolean readOnly, AccessMode mode,
            List<String> flags) throws IOException {
        BindOptions options = BindOptions.parse("volume_capability.mount.mount_flags", flags).withReadOnly(readOnly);
        MountRecord current = state.get(volume.id());
        if (!staging.toString().equals(current.stagingPath())) {
            throw CsiException.failedPrecondition("volume " + volume.id() + " is not staged at " + staging
                    + (current.stagingPath() == null ? "" : " (it is staged at " + current.stagingPath() + ")"));
        }
        Path source = engines.get(volume.engine()).publishSource(volume, Path.of(current.stageMountPoint()));
        Publication wanted = new Publication(target.toString(), source.toString(), readOnly, mode, flags);
        var existing = current.publication(target.toString());
        if (existing.isPresent()) {
            if (!existing.get().sameRequest(wanted)) {
                throw CsiException.alreadyExists("volume " + volume.id() + " is already published at " + target
                        + " with another capability or read-only setting");
            }
            limitIo(volume, target); // a retry after the pod's cgroup was not there yet
            return;
        }
        checkExclusive(volume.id(), mode, current);
        boolean file = !Files.isDirectory(source); // a file volume or a device node goes onto a file
        prepareMountPoint("target_path", target, file, true);
        state.put(current.with(wanted));
        CrashPoint.reach("node.publish.recorded");
        try {
            mounter.bind(source, target, options);
            CrashPoint.reach("node.publish.mounted");
        } catch (IOException | RuntimeException e) {
            state.put(current);
            removeEmptyEntry(target);
            throw e;
        }
        limitIo(volume, target);
    }

    /** Holds the pod at {@code target} to the volume's I/O limits, when it has any. */
    void limitIo(VolumeRecord volume, Path target) throws IOException {
        IoLimits limits = IoLimits.of(volume);
        if (limits.none()) {
            return;
        }
        DeviceNumber device = engines.get(volume.engine()).ioDevice(volume).orElseThrow(() -> CsiException
                .failedPrecondition("volume " + volume.id() + " has I/O limits (" + limits + ") but no block device "
                        + "of its own to key them to"));
        throttle.limit(target, device, limits);
    }

    /** Unpublishes the volume from {@code target} if it is published there, and removes the directory. */
    void unpublish(VolumeRecord volume, Path target) throws IOException {
        MountRecord current = state.get(volume.id());
        throttle.lift(target);
        if (current.publication(target.toString()).isEmpty()) {
            return;
        }
        mounter.unmount(target);
        requireUnmounted(volume, target);
        CrashPoint.reach("node.unpublish.unmounted");
        state.put(current.without(target.toString()));
        removeEmptyEntry(target);
    }

    /** The record goes only when the mount is gone; something mounted over Strata's stays the CO's problem. */
    private static void requireUnmounted(VolumeRecord volume, Path mountPoint) {
        if (MountTable.read().isMountPoint(mountPoint)) {
            throw CsiException.failedPrecondition("volume " + volume.id() + ": " + mountPoint + " is still a mount "
                    + "point after Strata's mount there was undone; unmount what else is mounted there first");
        }
    }

    /** ReadWriteOncePod: one publication, and none beside one that asked for it. */
    private static void checkExclusive(String volumeId, AccessMode mode, MountRecord current) {
        boolean exclusiveHeld = current.publications().stream().anyMatch(p -> p.mode().singlePublication());
        if (!current.publications().isEmpty() && (mode.singlePublication() || exclusiveHeld)) {
            throw CsiException.failedPrecondition("volume " + volumeId + " is published at "
                    + current.publications().get(0).targetPath() + " for a single writer (ReadWriteOncePod)");
        }
    }

    /**
     * Creates what a mount goes on: a directory, or an empty file for a single-file volume. A
     * symbolic link there is refused, never followed, and so is anything already mounted there and
     * any place Strata must not mount into; nothing is made before the checks pass.
     */
    private void prepareMountPoint(String field, Path path, boolean file, boolean fromCo) throws IOException {
        if (fromCo) {
            refuseForbiddenPlace(field, path, path);
        }
        try (MountPoint point = MountPoint.creatingParents(path)) {
            if (fromCo) {
                refuseForbiddenPlace(field, path, point.realPath()); // where a link of root's led it
            }
            FileHandle.Stat stat;
            try (FileHandle entry = point.entry()) {
                stat = entry.stat();
            } catch (NoSuchFileException e) {
                if (file) {
                    point.parent().createFile(point.name(), 0640);
                } else {
                    point.parent().mkdir(point.name(), MOUNT_POINT_MODE);
                }
                return;
            }
            if (stat.isSymbolicLink()) {
                throw CsiException.invalidArgument(field, path + " is a symbolic link");
            }
            if (file ? !stat.isRegularFile() : !stat.isDirectory()) {
                throw CsiException.invalidArgument(field, path + " exists and is not a "
                        + (file ? "file (the volume is a single file or a device)" : "directory"));
            }
            if (stat.mountRoot() || MountTable.read().isMountPoint(path)) {
                throw CsiException.failedPrecondition(field + ": something else is already mounted at " + path);
            }
        } catch (FileHandle.SymbolicLinkException e) {
            throw CsiException.invalidArgument(field, path + ": " + e.getReason() + " (" + e.getFile() + ")");
        }
    }

    /** The driver's data, the host directories it serves, and the volumes it has mounted are not mount places. */
    private void refuseForbiddenPlace(String field, Path given, Path real) throws IOException {
        List<Path> forbidden = new ArrayList<>(forbiddenPlaces);
        forbidden.addAll(state.mountedPaths());
        for (Path place : forbidden) {
            Path placeReal = realOrSelf(place);
            if (inside(given, place) || inside(real, placeReal)) {
                throw CsiException.invalidArgument(field, given + " lies inside " + place
                        + ", where Strata keeps data or has mounted a volume; pick a path outside it");
            }
        }
    }

    /** Whether {@code path} is {@code place} or lies below it. */
    private static boolean inside(Path path, Path place) {
        return path.normalize().startsWith(place.normalize());
    }

    private static Path realOrSelf(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }

    /** Removes an (empty) mount directory, or the empty file a file volume was mounted on. */
    private static void removeEmptyEntry(Path path) {
        try (MountPoint point = MountPoint.at(path); FileHandle entry = point.entry()) {
            FileHandle.Stat stat = entry.stat();
            if (stat.isDirectory()) {
                point.parent().remove(point.name(), true);
            } else if (stat.isRegularFile() && Files.size(entry.procPath()) == 0) {
                point.parent().remove(point.name(), false);
            }
        } catch (IOException e) {
            // not empty or already gone: leave it, it is not ours to empty
        }
    }
}
