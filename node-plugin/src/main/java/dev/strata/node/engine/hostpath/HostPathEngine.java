package dev.strata.node.engine.hostpath;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.Validate;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.Ids;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.DirectoryTrees;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.StaticVolumes;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.hostpath.HostPaths.HostPath;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountPoint;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.RecordStore;
import dev.strata.node.sys.FileHandle;
import dev.strata.node.sys.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Docker's {@code -v /host/dir:/ctr/dir[:ro]}: a volume is a directory on the host, under a root
 * the node allows ({@code --hostpath-root}), at a path a StorageClass pattern gives
 * ({@code ${pvc.namespace}/${pvc.name}}). A static volume's handle is a host path under an allowed
 * root, a directory or a single file. Snapshots are copies kept in the engine's own directory (the
 * backup of a host directory, as Docker's docs make one with tar); restores and clones copy into a
 * new host directory.
 *
 * <p>Host directories are shared ground: a pod of a volume higher up can rewrite everything below
 * it, and volumes may share a path. So every use resolves the path through {@link HostPaths#open}
 * (no link followed, nothing outside the root), and ownership is by path: volumes that name the same
 * directory share it, and it is removed only with the last of them, and only if Strata made it
 * (with the Retain policy Kubernetes never asks, and the data stays, as Docker keeps a host
 * directory after {@code docker rm}); a directory that holds another volume's, or that anything
 * still mounts, is not removed at all.
 *
 * <p>A directory Strata makes is held to the volume's size where its filesystem has project quotas
 * ({@link HostPathSizes}); elsewhere, and in a directory that was there before, a volume shares its
 * filesystem's free space, as Docker's bind mounts do.
 */
public final class HostPathEngine implements VolumeEngine, StaticVolumes, DirectoryTrees {
    public static final String NAME = "hostpath";
    /** A static volume's record parameter: the host path it stands for. */
    static final String STATIC_PATH = "path";

    private final HostPaths hostPaths;
    private final RecordStore<HostPathVolume> volumes;
    private final Mounter mounter;
    private final HostPathCopies copies;
    private final HostPathSizes sizes;
    private final HostPathTrashes trashes = new HostPathTrashes();
    /** Held while a path's owners are read and changed, so that two volumes never race for one path. */
    private final Object ownership = new Object();

    public HostPathEngine(Path engineRoot, HostPaths hostPaths, Mounter mounter, CommandRunner runner)
            throws IOException {
        this.hostPaths = hostPaths;
        this.volumes = new RecordStore<>(engineRoot.resolve("volumes"), HostPathVolume.class, HostPathVolume::volumeId,
                v -> true);
        this.mounter = mounter;
        this.copies = new HostPathCopies(engineRoot, mounter, runner);
        this.sizes = new HostPathSizes(engineRoot, mounter, runner);
    }

    @Override
    public EngineTraits traits() {
        return new EngineTraits(NAME, EnumSet.of(AccessType.MOUNT), EnumSet.allOf(AccessMode.class), Set.of(""),
                Set.of(HostPaths.ROOT, HostPaths.PATH_PATTERN, SizeLimit.PARAMETER), Set.of(), false);
    }

    @Override
    public void validateParameters(String field, Map<String, String> parameters) {
        if (field.equals("parameters")) {
            hostPaths.root(parameters);
            SizeLimit.validate(field, parameters);
        }
    }

    /** A handle Kubernetes may give for a statically provisioned hostpath PV: a host path. */
    @Override
    public boolean claims(String volumeId) {
        return volumeId.startsWith("/");
    }

    /**
     * The record that stands for a static volume: its ID derives from the path, so the node's mount
     * records have a plain key; nothing is stored for it.
     */
    @Override
    public VolumeRecord resolve(String handle) {
        Validate.absolutePath("volume_id", handle);
        HostPath path = hostPaths.staticPath(handle);
        try {
            if (!HostPaths.exists(path, "volume_id")) {
                throw CsiException.notFound("volume_id: " + path + " does not exist");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new VolumeRecord(idOf(handle), path.toString(), NAME, 0, AccessType.MOUNT,
                Map.of(STATIC_PATH, path.toString()), Map.of(), null, null, List.of(), RecordState.READY, Instant.EPOCH,
                Map.of());
    }

    /** The ID that stands for a static volume's handle (a host path). */
    @Override
    public String idOf(String handle) {
        return Ids.volumeId("hostpath:" + Path.of(handle).normalize());
    }

    /** The host path behind a volume. */
    private HostPath hostPath(VolumeRecord volume) {
        String path = volume.parameters().get(STATIC_PATH);
        if (path != null) {
            return hostPaths.recorded(path);
        }
        return volumes.get(volume.id()).map(v -> hostPaths.recorded(v.path()))
                .orElseThrow(() -> CsiException.notFound("volume " + volume.id() + " has no host path"));
    }

    @Override
    public void create(VolumeRecord volume) throws IOException {
        if (volumes.get(volume.id()).isPresent()) {
            return;
        }
        HostPath path = hostPaths.volumePath(volume.parameters(), volume.name());
        ContentSource source = volume.source();
        synchronized (ownership) {
            Optional<HostPathVolume> owner = volumes.all().stream().filter(v -> v.path().equals(path.toString()))
                    .findFirst();
            if (source != null && owner.isPresent()) {
                throw CsiException.alreadyExists("volume_content_source: " + path + " is the directory of volume "
                        + owner.get().volumeId() + "; a restore or clone needs a new directory");
            }
            // Recorded first, so that a crash before the directory exists still leaves a note of
            // whether Strata is the one making it.
            volumes.put(new HostPathVolume(volume.id(), path.toString(),
                    !HostPaths.exists(path, "parameters." + HostPaths.PATH_PATTERN)));
        }
        CrashPoint.reach("hostpath.create.recorded");
        boolean created = HostPaths.createDirectories(path);
        try (FileHandle dir = HostPaths.open(path, "parameters." + HostPaths.PATH_PATTERN)) {
            if (created) {
                sizes.limit(volume, dir); // before a copy, which then counts against it
            }
            if (source != null) {
                if (!created && !isEmpty(dir)) {
                    throw CsiException.alreadyExists("volume_content_source: " + path
                            + " already holds data; a restore or clone needs a new directory");
                }
                copyInto(source, dir);
            }
        }
    }

    /**
     * How the volume is held to its size ({@link HostPathSizes}): volumes that name one directory
     * share the limit of the one that made it.
     */
    @Override
    public Map<String, String> attributes(VolumeRecord volume) throws IOException {
        String holder = volumes.get(volume.id())
                .flatMap(v -> Stream.concat(Stream.of(v), sharers(v))
                        .filter(HostPathVolume::created).findFirst())
                .map(HostPathVolume::volumeId).orElse(volume.id());
        return Map.of(SizeLimit.ATTRIBUTE, sizes.mechanism(holder, hostPath(volume)));
    }

    private void copyInto(ContentSource source, FileHandle dir) throws IOException {
        if (source.kind() == ContentSource.Kind.SNAPSHOT) {
            copies.restore(source.id(), dir);
            return;
        }
        try (FileHandle from = HostPaths.open(hostPath(volumeOf(source.id())), "volume_content_source")) {
            copies.clone(from, dir);
        }
    }

    private static boolean isEmpty(FileHandle dir) throws IOException {
        try (var entries = Files.list(dir.procPath())) {
            return entries.findAny().isEmpty();
        }
    }

    /** A stand-in record for a dynamic volume of this engine, enough to find its host path. */
    private VolumeRecord volumeOf(String volumeId) {
        return new VolumeRecord(volumeId, volumeId, NAME, 0, AccessType.MOUNT, Map.of(), Map.of(), null, null,
                List.of(), RecordState.READY, Instant.EPOCH, Map.of());
    }

    /**
     * A volume whose directory holds another volume's directory, or that anything still mounts, is
     * not deleted (FAILED_PRECONDITION): the delete would take data that is not the volume's own.
     */
    @Override
    public void requireDeletable(String volumeId) throws IOException {
        Optional<HostPathVolume> found = volumes.get(volumeId);
        if (found.isEmpty() || !found.get().created() || sharers(found.get()).findAny().isPresent()) {
            return; // nothing of the host's will be removed
        }
        HostPath path = hostPaths.recorded(found.get().path());
        Optional<HostPathVolume> inside = volumes.all().stream()
                .filter(v -> !v.path().equals(path.toString()) && hostPaths.recorded(v.path()).within(path)).findFirst();
        if (inside.isPresent()) {
            throw CsiException.failedPrecondition("volume " + volumeId + ": its directory " + path + " holds the "
                    + "directory of volume " + inside.get().volumeId() + " (" + inside.get().path() + "); delete that first");
        }
        List<MountTable.Entry> mounts;
        try (FileHandle dir = HostPaths.open(path, "volume_id")) {
            mounts = MountTable.read().showing(dir.procPath());
        } catch (NoSuchFileException | CsiException e) {
            return; // gone, or a link is there now: nothing of Strata's will be removed
        }
        if (!mounts.isEmpty()) {
            throw CsiException.failedPrecondition("volume " + volumeId + ": " + path + " is still mounted at "
                    + mounts.get(0).mountPoint());
        }
    }

    @Override
    public void delete(String volumeId) throws IOException {
        synchronized (ownership) {
            Optional<HostPathVolume> found = volumes.get(volumeId);
            if (found.isEmpty()) {
                return;
            }
            HostPathVolume v = found.get();
            Optional<HostPathVolume> sharer = sharers(v).findFirst();
            if (sharer.isPresent()) {
                // Another volume uses the directory: it stays, and goes with the last of them.
                if (v.created()) {
                    volumes.put(new HostPathVolume(sharer.get().volumeId(), sharer.get().path(), true));
                    sizes.handOver(volumeId, sharer.get().volumeId());
                }
            } else if (v.created()) {
                requireDeletable(volumeId);
                sizes.release(volumeId, hostPaths.recorded(v.path()));
                trashes.discard(hostPaths.recorded(v.path()));
            }
            volumes.remove(volumeId);
        }
    }

    /** The other volumes whose directory is this one's. */
    private Stream<HostPathVolume> sharers(HostPathVolume v) {
        return volumes.all().stream().filter(o -> o.path().equals(v.path()) && !o.volumeId().equals(v.volumeId()));
    }

    @Override
    public void close() throws InterruptedException {
        copies.close();
        trashes.close();
    }

    @Override
    public List<Sample> samples() throws IOException {
        List<Trash> all = new ArrayList<>(List.of(copies.snapshotTrash()));
        all.addAll(trashes.all());
        return Trash.samples(NAME, all);
    }

    @Override
    public void expand(VolumeRecord volume, long newBytes) throws IOException {
        sizes.expand(volume.id(), hostPath(volume), newBytes);
    }

    @Override
    public void modify(VolumeRecord volume, Map<String, String> parameters) {
        // No mutable parameters.
    }

    @Override
    public void snapshot(SnapshotRecord snapshot, VolumeRecord source) throws IOException {
        try (FileHandle dir = HostPaths.open(hostPath(source), "source_volume_id")) {
            copies.snapshot(dir, snapshot.id());
        }
    }

    @Override
    public Path snapshotTree(String snapshotId) {
        return copies.snapshotTree(snapshotId);
    }

    /** Through the handle of the volume's host directory, shown at a path of the engine's own. */
    @Override
    public <T> T fillVolume(String volumeId, TreeFill<T> fill) throws IOException {
        HostPath path = hostPath(volumeOf(volumeId));
        try (FileHandle dir = HostPaths.open(path, "volume " + volumeId)) {
            if (!isEmpty(dir)) {
                throw CsiException.alreadyExists(path + " already holds data; a restore needs a new directory");
            }
            return copies.fill(dir, fill);
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        copies.deleteSnapshot(snapshotId);
    }

    @Override
    public Set<String> storedVolumeIds() {
        return volumes.all().stream().map(HostPathVolume::volumeId).collect(Collectors.toSet());
    }

    @Override
    public Set<String> storedSnapshotIds() throws IOException {
        return copies.storedSnapshotIds();
    }

    /** A single file is mounted on a file inside the staging directory; a directory on the directory. */
    @Override
    public Path stageMountPoint(VolumeRecord volume, Path stagingPath) throws IOException {
        HostPath path = hostPath(volume);
        try (FileHandle source = HostPaths.open(path, "volume_id")) {
            return source.stat().isRegularFile() ? stagingPath.resolve(path.relative().getFileName()) : stagingPath;
        }
    }

    @Override
    public void stage(VolumeRecord volume, Path mountPoint, BindOptions options) throws IOException {
        HostPath path = hostPath(volume);
        try (FileHandle source = HostPaths.open(path, "volume_id"); MountPoint target = MountPoint.at(mountPoint);
                FileHandle entry = target.entry()) {
            FileHandle.Stat host = source.stat();
            boolean onFile = !entry.stat().isDirectory();
            if (host.isRegularFile() != onFile || !host.isRegularFile() && !host.isDirectory()) {
                throw CsiException.failedPrecondition("volume " + volume.id() + ": " + path + " is no longer the "
                        + (onFile ? "file" : "directory") + " it was when staging began");
            }
            mounter.bind(source, target, options);
        }
    }

    @Override
    public void unstage(VolumeRecord volume, Path mountPoint) throws IOException {
        mounter.unmount(mountPoint);
    }

    @Override
    public VolumeHealth health(VolumeRecord volume) {
        HostPath path = hostPath(volume);
        try {
            return HostPaths.exists(path, "volume_id") ? VolumeHealth.OK
                    : VolumeHealth.abnormal("host path " + path + " is missing");
        } catch (IOException | CsiException e) {
            return VolumeHealth.abnormal("host path " + path + ": " + e.getMessage());
        }
    }

    @Override
    public Capacity capacity() throws IOException {
        if (hostPaths.roots().isEmpty()) {
            return new Capacity(0, 0, 0);
        }
        LibC.StatVfs st = LibC.statvfs(hostPaths.roots().get(0).toString());
        return st == null ? new Capacity(0, 0, 0) : new Capacity(st.availableBytes(), st.totalBytes(), 0);
    }
}
