package dev.strata.node.engine.dir;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeUsage;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.engine.size.LoopFilesystem;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.engine.size.SizeLimit.Limited;
import dev.strata.node.mount.MountTable;
import dev.strata.node.iolimit.IoLimits;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceNumber;
import dev.strata.node.sys.FileHandle;
import dev.strata.node.sys.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Directory volumes held to their size. A volume's tree stays where every directory volume's is,
 * {@code volumes/ID}: the root of its own filesystem (mounted there) or a project-quota directory.
 * What the {@link SizeLimit} needs (an image, a project ID) is in {@code sized/ID}, whose presence
 * marks the volume as sized. Both are built under {@code .partial-} names and renamed into place,
 * the limit's first, so a crash never leaves a half-filled volume under its real name.
 *
 * <p>The volume's data is the directory {@code data} in its tree, not the tree itself. kubelet
 * unstages a volume only when no mount outside its own directories shows the same filesystem at the
 * same path within it (its "device mount references"): with the tree staged, the node plugin's own
 * mount of a loop filesystem at the tree would be one, and the volume could never be unstaged.
 */
final class SizedVolumes {
    static final String DIR = "sized";
    /** The directory in a sized volume's tree that holds its data. */
    static final String DATA = "data";
    private static final String PARTIAL = TreeCopy.PARTIAL;

    /** Fills a new volume's empty tree. */
    interface Fill {
        void into(VolumeRecord volume, Path tree) throws IOException;
    }

    private final Path homes;
    private final Path trees;
    /** The mechanism new volumes get. */
    private final SizeLimit limit;
    /** Volumes made with a loop image keep it whatever the node detects later. */
    private final SizeLimit loop;

    SizedVolumes(Path homes, Path trees, SizeLimit limit, Mounter mounter, CommandRunner runner) throws IOException {
        this.homes = Files.createDirectories(homes);
        this.trees = trees;
        this.limit = limit;
        this.loop = limit instanceof LoopFilesystem ? limit : new LoopFilesystem(mounter, runner);
    }

    boolean holds(String volumeId) {
        return Files.isDirectory(homes.resolve(volumeId), LinkOption.NOFOLLOW_LINKS);
    }

    private Limited place(String name) {
        return new Limited(homes.resolve(name), trees.resolve(name));
    }

    /** Where the volume's data is: {@code data} in a sized volume's tree, else the tree. */
    Path dataOf(String volumeId) {
        Path tree = trees.resolve(volumeId);
        return holds(volumeId) ? tree.resolve(DATA) : tree;
    }

    /** How the volume's size is held, for its attributes. */
    String mechanism(String volumeId) {
        return holds(volumeId) ? limitOf(homes.resolve(volumeId)).name() : SizeLimit.NONE;
    }

    void create(VolumeRecord volume, Fill fill) throws IOException {
        Limited done = place(volume.id());
        Limited partial = place(PARTIAL + volume.id());
        if (Files.isDirectory(done.home(), LinkOption.NOFOLLOW_LINKS)) {
            // An earlier attempt got as far as the limit's rename: its tree is filled.
            if (!Files.isDirectory(done.tree(), LinkOption.NOFOLLOW_LINKS)) {
                AtomicFile.rename(partial.tree(), done.tree());
            }
            limitOf(done.home()).open(done);
            return;
        }
        if (Files.exists(partial.home(), LinkOption.NOFOLLOW_LINKS)) {
            limitOf(partial.home()).release(partial); // an attempt cut short: start again from nothing
            Trash.deleteTree(partial.home());
        }
        Trash.deleteTree(partial.tree());
        Files.createDirectory(partial.home());
        Files.createDirectory(partial.tree());
        // I/O limits are keyed to a device of the volume's own: a limited volume gets a loop
        // filesystem even where the node's filesystem has project quotas.
        SizeLimit chosen = IoLimits.of(volume).none() ? limit : loop;
        chosen.create(partial, volume.id(), volume.capacityBytes());
        fill.into(volume, Files.createDirectory(partial.tree().resolve(DATA)));
        FileHandle.syncFilesystem(partial.tree()); // the volume's own filesystem, with a loop
        chosen.close(partial); // a mount point cannot be renamed
        AtomicFile.rename(partial.home(), done.home());
        AtomicFile.rename(partial.tree(), done.tree());
        chosen.open(done);
    }

    /** Makes a sized volume's limit hold again after a restart; nothing for other volumes. */
    void open(String volumeId) throws IOException {
        if (holds(volumeId)) {
            Limited v = place(volumeId);
            if (Files.isDirectory(v.tree(), LinkOption.NOFOLLOW_LINKS)) {
                limitOf(v.home()).open(v);
            }
        }
    }

    /** Why the volume's limit does not hold now (its filesystem is not mounted), if it does not. */
    Optional<String> problem(String volumeId) throws IOException {
        if (!holds(volumeId)) {
            return Optional.empty();
        }
        Limited v = place(volumeId);
        return limitOf(v.home()).isOpen(v) ? Optional.empty()
                : Optional.of("the volume's own filesystem is not mounted at " + v.tree());
    }

    /**
     * The device of the volume's own loop filesystem, while it is mounted at its tree; nothing for a
     * volume sized another way (its tree's filesystem is shared with other volumes).
     */
    Optional<DeviceNumber> loopDevice(String volumeId) throws IOException {
        if (!holds(volumeId)) {
            return Optional.empty();
        }
        Limited v = place(volumeId);
        SizeLimit limit = limitOf(v.home());
        if (!LoopFilesystem.NAME.equals(limit.name()) || !limit.isOpen(v)) {
            return Optional.empty();
        }
        return Optional.of(DeviceNumber.ofFilesystem(v.tree()));
    }

    /** At start: remounts what a reboot unmounted, before any volume is staged. */
    void openAll() throws IOException {
        for (String id : completeIds()) {
            open(id);
        }
    }

    /** At an orderly stop: unmounts the node's own mounts of the volumes' filesystems. */
    void closeAll() throws IOException {
        for (String id : completeIds()) {
            limitOf(homes.resolve(id)).close(place(id));
        }
    }

    private List<String> completeIds() throws IOException {
        try (Stream<Path> entries = Files.list(homes)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(PARTIAL)).toList();
        }
    }

    /** IDs with a limit's files, a partial one counted under its volume's ID. */
    Set<String> storedIds() throws IOException {
        return TreeCopy.names(homes);
    }

    /**
     * Refuses (FAILED_PRECONDITION) while anything but the limit's own mount shows the tree: a stage,
     * a pod's bind mount, a mount inside it.
     */
    void requireUnused(String volumeId) throws IOException {
        Path tree = trees.resolve(volumeId);
        if (!Files.isDirectory(tree, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        MountTable mounts = MountTable.read();
        List<Path> others = mounts.showing(tree).stream().map(MountTable.Entry::mountPoint)
                .filter(p -> !p.equals(tree)).toList();
        List<Path> inside = mounts.under(tree).stream().filter(p -> !p.equals(tree)).toList();
        if (!others.isEmpty() || !inside.isEmpty()) {
            throw CsiException.failedPrecondition("volume is still mounted at "
                    + (others.isEmpty() ? inside : others).get(0));
        }
    }

    /**
     * Undoes the limits of the volume and of a partial one (a loop filesystem is detached: it goes
     * when its last user does) and moves their files to the trash; the trees are the caller's.
     */
    void delete(String volumeId, Trash trash) throws IOException {
        for (Limited v : List.of(place(PARTIAL + volumeId), place(volumeId))) {
            if (Files.exists(v.home(), LinkOption.NOFOLLOW_LINKS)) {
                limitOf(v.home()).release(v);
                trash.discard(v.home());
            }
        }
    }

    void expand(String volumeId, long bytes) throws IOException {
        if (holds(volumeId)) {
            Limited v = place(volumeId);
            limitOf(v.home()).expand(v, bytes);
        }
    }

    /**
     * NodeGetVolumeStats's figures: for a sized volume the total is its size, as the CO asked for it
     * (its own filesystem counts a few MiB of metadata out of it); the used bytes are what the
     * volume holds.
     */
    VolumeUsage usage(VolumeRecord volume, Path path) throws IOException {
        VolumeUsage fs = LibC.statvfs(path).usage();
        if (!holds(volume.id())) {
            return fs;
        }
        long total = volume.capacityBytes();
        long available = Math.max(0, Math.min(fs.availableBytes(), total - fs.usedBytes()));
        return new VolumeUsage(total, fs.usedBytes(), available, fs.totalInodes(), fs.usedInodes(), fs.freeInodes());
    }

    private SizeLimit limitOf(Path dir) {
        return loop.holds(dir) ? loop : limit;
    }
}
