package dev.strata.node.engine.dir;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeUsage;
import dev.strata.node.engine.DirectoryTrees;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.size.LoopFilesystem;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.iolimit.IoLimits;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceNumber;
import dev.strata.node.sys.LibC;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * The simplest engine: a volume is a directory on the node's data filesystem, staged by a bind mount.
 * Snapshots and clones are copies (reflinked where the filesystem can).
 *
 * <p>A volume is held to its size ({@link SizedVolumes}): a project quota where the data filesystem
 * has them, else a filesystem image of its own on a loop device; writes past the size fail with
 * ENOSPC or EDQUOT. With the parameter {@code sizeLimit: none} the size is recorded, not enforced,
 * and the volumes share the filesystem's free space, as Docker's local volumes do.
 *
 * <p>The same engine, named {@code shared}, serves Docker's data-only containers and
 * {@code --volumes-from}: one volume published read-write into many pods at once. Every pod's bind
 * mount shows the one directory, so a write is seen by the others at once. It accepts the multi-node
 * access modes too (ReadWriteMany, ReadOnlyMany): the volume's topology keeps all its pods on its node.
 */
public final class DirEngine implements VolumeEngine, DirectoryTrees {
    public static final String NAME = "dir";
    public static final String SHARED = "shared";
    private static final Set<AccessMode> SINGLE_NODE = EnumSet.of(AccessMode.SINGLE_NODE_WRITER,
            AccessMode.SINGLE_NODE_READER_ONLY, AccessMode.SINGLE_NODE_SINGLE_WRITER, AccessMode.SINGLE_NODE_MULTI_WRITER);
    /** Parameters that set the volume root's permissions; valid at creation and as mutable parameters. */
    static final Set<String> ROOT_KEYS = Set.of(DirRoot.MODE, DirRoot.UID, DirRoot.GID);
    private static final Set<String> CREATE_KEYS = IoLimits.withKeys(Set.of(DirRoot.MODE, DirRoot.UID,
            DirRoot.GID, SizeLimit.PARAMETER));
    private static final Set<String> MUTABLE_KEYS = IoLimits.withKeys(ROOT_KEYS);
    private static final String PARTIAL = TreeCopy.PARTIAL;

    private final String name;
    private final Set<AccessMode> accessModes;
    private final Path volumes;
    private final SizedVolumes sized;
    private final Path snapshots;
    private final Trash trash;
    private final Mounter mounter;
    private final TreeCopy copy;

    /** The {@code dir} engine. */
    public DirEngine(Path root, Mounter mounter, CommandRunner runner) throws IOException {
        this(NAME, SINGLE_NODE, root, mounter, runner, SizeLimit.detect(NAME, root, mounter, runner));
    }

    /** The {@code shared} engine: every access mode, one node. */
    public static DirEngine shared(Path root, Mounter mounter, CommandRunner runner) throws IOException {
        return new DirEngine(SHARED, EnumSet.allOf(AccessMode.class), root, mounter, runner,
                SizeLimit.detect(SHARED, root, mounter, runner));
    }

    /** The {@code dir} engine with new volumes' sizes held by {@code limit}. */
    static DirEngine withLimit(Path root, Mounter mounter, CommandRunner runner, SizeLimit limit) throws IOException {
        return new DirEngine(NAME, SINGLE_NODE, root, mounter, runner, limit);
    }

    private DirEngine(String name, Set<AccessMode> accessModes, Path root, Mounter mounter, CommandRunner runner,
            SizeLimit limit) throws IOException {
        this.name = name;
        this.accessModes = Set.copyOf(accessModes);
        this.volumes = Files.createDirectories(root.resolve("volumes"));
        this.sized = new SizedVolumes(root.resolve(SizedVolumes.DIR), volumes, limit, mounter, runner);
        this.snapshots = Files.createDirectories(root.resolve("snapshots"));
        this.trash = new Trash(root.resolve("trash"));
        this.mounter = mounter;
        this.copy = new TreeCopy(runner);
    }

    @Override
    public EngineTraits traits() {
        return new EngineTraits(name, EnumSet.of(AccessType.MOUNT), accessModes, Set.of(""), CREATE_KEYS, MUTABLE_KEYS,
                false);
    }

    @Override
    public void validateParameters(String field, Map<String, String> parameters) {
        DirRoot.validate(field, parameters);
        SizeLimit.validate(field, parameters);
        if (!SizeLimit.wanted(parameters) && IoLimits.requested(parameters)) {
            throw CsiException.invalidArgument(field + "." + SizeLimit.PARAMETER, "I/O limits need the volume's own "
                    + "device (a loop-backed filesystem); sizeLimit: none gives it none");
        }
    }

    /** A volume on its own loop-backed filesystem has its own device; one under a project quota has not. */
    @Override
    public boolean limitsIo(VolumeRecord volume) {
        return LoopFilesystem.NAME.equals(sized.mechanism(volume.id()));
    }

    @Override
    public Optional<DeviceNumber> ioDevice(VolumeRecord volume) throws IOException {
        return sized.loopDevice(volume.id());
    }

    @Override
    public void start() throws IOException {
        sized.openAll();
    }

    @Override
    public Map<String, String> attributes(VolumeRecord volume) {
        return Map.of(SizeLimit.ATTRIBUTE, sized.mechanism(volume.id()));
    }

    /** Where a volume's data lives (its root directory, which pods see). */
    public Path volumePath(String volumeId) {
        return sized.dataOf(volumeId);
    }

    Path snapshotPath(String snapshotId) {
        return snapshots.resolve(snapshotId);
    }

    @Override
    public Path snapshotTree(String snapshotId) {
        return snapshotPath(snapshotId);
    }

    @Override
    public <T> T fillVolume(String volumeId, TreeFill<T> fill) throws IOException {
        Path tree = volumePath(volumeId);
        try (var entries = Files.list(tree)) {
            if (entries.findAny().isPresent()) {
                throw CsiException.alreadyExists("volume " + volumeId + " already holds data; a restore needs "
                        + "an empty volume");
            }
        }
        return fill.into(tree);
    }

    @Override
    public void create(VolumeRecord volume) throws IOException {
        if (SizeLimit.wanted(volume.parameters())) {
            sized.create(volume, this::fill);
            return;
        }
        Path target = volumes.resolve(volume.id());
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return; // made by an earlier attempt that got as far as the rename
        }
        // Build under a temporary name and rename: a crash never leaves a half-copied volume in place.
        Path partial = volumes.resolve(PARTIAL + volume.id());
        Trash.deleteTree(partial);
        Files.createDirectory(partial);
        try {
            fill(volume, partial);
        } catch (IOException | RuntimeException e) {
            Trash.deleteTree(partial);
            throw e;
        }
        AtomicFile.rename(partial, target);
    }

    /** Gives a new volume's empty root its content and its owner and mode. */
    private void fill(VolumeRecord volume, Path root) throws IOException {
        ContentSource source = volume.source();
        if (source == null) {
            Posix.chmod(root, DirRoot.DEFAULT_MODE); // stated, not left to the umask
        } else {
            copy.copyContents(source.kind() == ContentSource.Kind.SNAPSHOT ? snapshotPath(source.id())
                    : volumePath(source.id()), root);
        }
        CrashPoint.reach("dir.create.partial");
        DirRoot.apply(root, volume.parameters());
        DirRoot.apply(root, volume.mutableParameters());
    }

    @Override
    public void requireDeletable(String volumeId) throws IOException {
        if (sized.holds(volumeId)) {
            sized.requireUnused(volumeId);
            return;
        }
        var mounted = MountTable.read().under(volumes.resolve(volumeId));
        if (!mounted.isEmpty()) {
            throw CsiException.failedPrecondition("volume is still mounted at " + mounted.get(0));
        }
    }

    @Override
    public void delete(String volumeId) throws IOException {
        requireDeletable(volumeId);
        sized.delete(volumeId, trash);
        trash.discard(volumes.resolve(PARTIAL + volumeId));
        trash.discard(volumes.resolve(volumeId));
    }

    @Override
    public void expand(VolumeRecord volume, long newBytes) throws IOException {
        sized.expand(volume.id(), newBytes); // a volume without a limit is bounded only by its filesystem
    }

    @Override
    public void modify(VolumeRecord volume, Map<String, String> parameters) throws IOException {
        DirRoot.apply(volumePath(volume.id()), parameters);
    }

    @Override
    public void snapshot(SnapshotRecord snapshot, VolumeRecord source) throws IOException {
        copy.copyOnce(volumePath(source.id()), snapshots, snapshot.id());
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws IOException {
        trash.discard(snapshots.resolve(PARTIAL + snapshotId));
        trash.discard(snapshotPath(snapshotId));
    }

    @Override
    public Set<String> storedVolumeIds() throws IOException {
        Set<String> ids = new HashSet<>(TreeCopy.names(volumes));
        ids.addAll(sized.storedIds());
        return ids;
    }

    @Override
    public Set<String> storedSnapshotIds() throws IOException {
        return TreeCopy.names(snapshots);
    }

    @Override
    public void stage(VolumeRecord volume, Path mountPoint, BindOptions options) throws IOException {
        sized.open(volume.id()); // a pod never writes past the limit into the directory under it
        mounter.bind(volumePath(volume.id()), mountPoint, options);
    }

    @Override
    public void unstage(VolumeRecord volume, Path mountPoint) throws IOException {
        mounter.unmount(mountPoint);
    }

    @Override
    public VolumeHealth health(VolumeRecord volume) {
        try {
            var problem = sized.problem(volume.id()); // first: an unmounted filesystem hides the data
            if (problem.isPresent()) {
                return VolumeHealth.abnormal(problem.get());
            }
        } catch (IOException e) {
            return VolumeHealth.abnormal("cannot check the volume's size limit: " + e.getMessage());
        }
        Path path = volumePath(volume.id());
        if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            return VolumeHealth.abnormal("volume directory " + path + " is missing");
        }
        LibC.StatVfs st = LibC.statvfs(path.toString());
        if (st == null) {
            return VolumeHealth.abnormal("cannot stat the volume's filesystem: " + LibC.describe(LibC.errno()));
        }
        if (st.readOnly()) {
            return VolumeHealth.abnormal("the volume's filesystem is read-only");
        }
        if (st.blocksAvailable() == 0) {
            return VolumeHealth.abnormal("the volume's filesystem is full");
        }
        return VolumeHealth.OK;
    }

    @Override
    public VolumeUsage usage(VolumeRecord volume, Path path) throws IOException {
        return sized.usage(volume, path);
    }

    @Override
    public Capacity capacity() throws IOException {
        LibC.StatVfs st = LibC.statvfs(volumes);
        return new Capacity(st.availableBytes(), st.totalBytes(), 0);
    }

    @Override
    public List<Sample> samples() throws IOException {
        return Trash.samples(name, List.of(trash));
    }

    @Override
    public void close() throws InterruptedException {
        trash.close();
        try {
            sized.closeAll();
        } catch (IOException e) {
            LoggerFactory.getLogger(DirEngine.class).warn("could not unmount the volumes' filesystems: {}",
                    e.toString());
        }
    }

    public void drainTrash() throws InterruptedException {
        trash.drain();
    }
}
