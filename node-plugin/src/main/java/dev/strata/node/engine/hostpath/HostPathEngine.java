package dev.strata.node.engine.hostpath;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.model.AccessMode;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.Ids;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.Mounter;
import dev.strata.node.store.RecordStore;
import dev.strata.node.sys.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Docker's {@code -v /host/dir:/ctr/dir[:ro]}: a volume is a directory on the host, under a root
 * the node allows ({@code --hostpath-root}), at a path a StorageClass pattern gives
 * ({@code ${pvc.namespace}/${pvc.name}}). A static volume's handle is a host path under an allowed
 * root, a directory or a single file. Delete removes only a directory Strata created; with the
 * Retain policy Kubernetes never asks, and the data stays on the host, as Docker keeps a host
 * directory after {@code docker rm}. Snapshots are copies kept in the engine's own directory (the
 * backup of a host directory, as Docker's docs make one with tar); restores and clones copy into a
 * new host directory.
 */
public final class HostPathEngine implements VolumeEngine {
    public static final String NAME = "hostpath";
    /** A static volume's record parameter: the host path it stands for. */
    static final String STATIC_PATH = "path";
    private static final String TRASH = ".strata-trash";
    private static final String PARTIAL = TreeCopy.PARTIAL;

    private final HostPaths hostPaths;
    private final RecordStore<HostPathVolume> volumes;
    private final Mounter mounter;
    private final TreeCopy copy;
    private final Path snapshots;
    private final Trash snapshotTrash;
    private final Map<Path, Trash> trashes = new HashMap<>();

    public HostPathEngine(Path engineRoot, HostPaths hostPaths, Mounter mounter, CommandRunner runner)
            throws IOException {
        this.hostPaths = hostPaths;
        this.volumes = new RecordStore<>(engineRoot.resolve("volumes"), HostPathVolume.class, HostPathVolume::volumeId,
                v -> true);
        this.mounter = mounter;
        this.copy = new TreeCopy(runner);
        this.snapshots = Files.createDirectories(engineRoot.resolve("snapshots"));
        this.snapshotTrash = new Trash(engineRoot.resolve("trash"));
    }

    @Override
    public EngineTraits traits() {
        return new EngineTraits(NAME, EnumSet.of(AccessType.MOUNT), EnumSet.allOf(AccessMode.class), Set.of(""),
                Set.of(HostPaths.ROOT, HostPaths.PATH_PATTERN), Set.of(), false);
    }

    @Override
    public void validateParameters(String field, Map<String, String> parameters) {
        if (field.equals("parameters")) {
            hostPaths.root(parameters);
        }
    }

    /** A handle Kubernetes may give for a statically provisioned hostpath PV. */
    public static boolean isStaticHandle(String volumeId) {
        return volumeId.startsWith("/");
    }

    /**
     * The record that stands for a static volume: its ID derives from the path, so the node's mount
     * records have a plain key; nothing is stored for it.
     */
    public VolumeRecord staticVolume(String handle) {
        Path path = hostPaths.staticPath(handle);
        return new VolumeRecord(staticVolumeId(handle), path.toString(), NAME, 0, AccessType.MOUNT,
                Map.of(STATIC_PATH, path.toString()), Map.of(), null, null, List.of(), RecordState.READY, Instant.EPOCH,
                Map.of());
    }

    /** The ID that stands for a static volume's handle (a host path). */
    public static String staticVolumeId(String handle) {
        return Ids.volumeId("hostpath:" + Path.of(handle).normalize());
    }

    /** The host path behind a volume. */
    public Path hostPath(VolumeRecord volume) {
        String path = volume.parameters().get(STATIC_PATH);
        if (path != null) {
            return Path.of(path);
        }
        return volumes.get(volume.id()).map(v -> Path.of(v.path()))
                .orElseThrow(() -> CsiException.notFound("volume " + volume.id() + " has no host path"));
    }

    @Override
    public boolean isFile(VolumeRecord volume) {
        return Files.isRegularFile(hostPath(volume), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void create(VolumeRecord volume) throws IOException {
        if (volumes.get(volume.id()).isPresent()) {
            return;
        }
        Path path = hostPaths.volumePath(volume.parameters(), volume.name());
        Path root = hostPaths.root(volume.parameters());
        boolean existed = Files.exists(path, LinkOption.NOFOLLOW_LINKS);
        // Recorded first, so that a crash before the directory exists still leaves a note of whether
        // Strata is the one making it.
        volumes.put(new HostPathVolume(volume.id(), path.toString(), !existed));
        CrashPoint.reach("hostpath.create.recorded");
        boolean created = HostPaths.createDirectories(root, path);
        ContentSource source = volume.source();
        if (source != null) {
            if (!created && !isEmpty(path)) {
                throw CsiException.alreadyExists("volume_content_source: " + path
                        + " already holds data; a restore or clone needs a new directory");
            }
            copy.copyContents(source.kind() == ContentSource.Kind.SNAPSHOT ? snapshots.resolve(source.id())
                    : hostPath(volumeOf(source.id())), path);
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    /** A stand-in record for a dynamic volume of this engine, enough to find its host path. */
    private VolumeRecord volumeOf(String volumeId) {
        return new VolumeRecord(volumeId, volumeId, NAME, 0, AccessType.MOUNT, Map.of(), Map.of(), null, null,
                List.of(), RecordState.READY, Instant.EPOCH,
                Map.of());
    }

    @Override
    public void delete(String volumeId) throws IOException {
        var found = volumes.get(volumeId);
        if (found.isEmpty()) {
            return;
        }
        HostPathVolume v = found.get();
        Path path = Path.of(v.path());
        if (v.created() && Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            trash(rootOf(path)).discard(path);
        }
        volumes.remove(volumeId);
    }

    private Path rootOf(Path path) {
        return hostPaths.roots().stream().filter(path::startsWith).findFirst()
                .orElseThrow(() -> new IllegalStateException(path + " is under no allowed root"));
    }

    @Override
    public synchronized void close() throws InterruptedException {
        snapshotTrash.close();
        for (Trash t : trashes.values()) {
            t.close();
        }
    }

    /** Each root has its own trash, on its own filesystem, so that discarding is a rename. */
    private synchronized Trash trash(Path root) throws IOException {
        Trash trash = trashes.get(root);
        if (trash == null) {
            trash = new Trash(root.resolve(TRASH));
            trashes.put(root, trash);
        }
        return trash;
    }

    @Override
    public void expand(VolumeRecord volume, long newBytes) {
        // A host directory has no size of its own.
    }

    @Override
    public void modify(VolumeRecord volume, Map<String, String> parameters) {
        // No mutable parameters.
    }

    @Override
    public void snapshot(SnapshotRecord snapshot, VolumeRecord source) throws IOException {
        copy.copyOnce(hostPath(source), snapshots, snapshot.id());
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        snapshotTrash.discard(snapshots.resolve(PARTIAL + snapshotId));
        snapshotTrash.discard(snapshots.resolve(snapshotId));
    }

    @Override
    public Set<String> storedVolumeIds() {
        return volumes.all().stream().map(HostPathVolume::volumeId).collect(Collectors.toSet());
    }

    @Override
    public Set<String> storedSnapshotIds() throws IOException {
        return TreeCopy.names(snapshots);
    }

    @Override
    public void stage(VolumeRecord volume, Path stagingPath, BindOptions options) throws IOException {
        Path source = hostPath(volume);
        if (isFile(volume)) {
            // A file cannot be mounted on the staging directory: it is mounted on a file inside it.
            Path file = stagingPath.resolve(source.getFileName());
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                Files.createFile(file);
            }
            mounter.bind(source, file, options);
        } else {
            mounter.bind(source, stagingPath, options);
        }
    }

    @Override
    public Path publishSource(VolumeRecord volume, Path stagingPath) {
        return isFile(volume) ? stagingPath.resolve(hostPath(volume).getFileName()) : stagingPath;
    }

    @Override
    public void unstage(VolumeRecord volume, Path stagingPath) throws IOException {
        Path source = publishSource(volume, stagingPath);
        mounter.unmount(source);
        if (!source.equals(stagingPath)) {
            Files.deleteIfExists(source);
        }
    }

    @Override
    public VolumeHealth health(VolumeRecord volume) {
        Path path = hostPath(volume);
        return Files.exists(path, LinkOption.NOFOLLOW_LINKS) ? VolumeHealth.OK
                : VolumeHealth.abnormal("host path " + path + " is missing");
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
