package dev.strata.node.engine;

import dev.strata.common.metrics.Sample;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.PoolUsage;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeUsage;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.sys.DeviceNumber;
import dev.strata.node.sys.LibC;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One way of making volumes on this node (a directory, an overlay, a thin device, ...). Records and
 * locking are the caller's: an engine only does storage, and each operation converges when repeated,
 * so that a call cut short by a crash can be finished or undone by calling it again.
 *
 * <p><b>Durability.</b> An engine call returns only when what it made is durable: the data of a
 * snapshot, clone or restore, and every file of the engine's own that names it (a layer chain, a
 * thin device's note, a directory entry), survive a power cut from then on. The caller settles the
 * record that says READY after the call, so a READY record never points at something a power cut
 * could take back. Files are written with {@code AtomicFile}; copied trees are synced with
 * {@code FileHandle.syncFilesystem}. What is being removed need not be durable: a delete lost to a
 * power cut leaves storage that no record owns, which recovery removes.
 */
public interface VolumeEngine {
    EngineTraits traits();

    /**
     * Brings the engine's storage back after a start (remounts what a reboot unmounted, activates a
     * pool); called once, before the node's records are reconciled with {@link #storedVolumeIds()}.
     */
    default void start() throws IOException {}

    /** Finishes the engine's background work (trash, flattening) at an orderly stop. */
    default void close() throws InterruptedException {}

    /**
     * What the engine reports about a created volume's storage (how its size is enforced, its device,
     * ...): kept in the volume's record and shown in its volume context with the {@code strata.csi.dev/}
     * prefix, so that {@code stratactl volume inspect} and the PV show it.
     */
    default Map<String, String> attributes(VolumeRecord volume) throws IOException {
        return Map.of();
    }

    /**
     * Checks parameter values (keys are already checked against the traits); INVALID_ARGUMENT naming
     * {@code field} and the key when one is wrong.
     */
    void validateParameters(String field, Map<String, String> parameters);

    /**
     * Makes the volume's storage, filled from {@code volume.source()} when it has one (a snapshot or
     * volume of this engine, checked by the caller to exist).
     */
    void create(VolumeRecord volume) throws IOException;

    /**
     * The least a new volume with these parameters can be: below it mkfs makes no filesystem. A
     * request for less gets this much (CSI lets a volume be larger than asked, within its limit).
     */
    default long minimumBytes(Map<String, String> parameters, AccessType accessType) {
        return 0;
    }

    /** Removes whatever storage exists for this ID; succeeds when there is none. */
    void delete(String volumeId) throws IOException;

    /** Grows the volume's storage to {@code newBytes} (the record still has the old size). */
    void expand(VolumeRecord volume, long newBytes) throws IOException;

    /**
     * Whether the volume has a block device of its own, which I/O limits are keyed to (a cgroup
     * limits a pod's I/O per device). A volume that shares its filesystem's device has none.
     */
    default boolean limitsIo(VolumeRecord volume) {
        return false;
    }

    /** The volume's own block device while it is staged ({@link #limitsIo}); empty when it has none. */
    default Optional<DeviceNumber> ioDevice(VolumeRecord volume) throws IOException {
        return Optional.empty();
    }

    /** Applies mutable parameters, already checked against {@link EngineTraits#mutableParameterKeys()}. */
    void modify(VolumeRecord volume, Map<String, String> parameters) throws IOException;

    /** Freezes the volume's current content as the snapshot. */
    void snapshot(SnapshotRecord snapshot, VolumeRecord source) throws IOException;

    /**
     * Snapshots several volumes together; the caller holds every volume's lock. This default cuts them
     * one after another, which is all a copy-based engine can do; engines that can freeze their volumes
     * (thin devices) override it to cut them at one instant.
     */
    default void snapshotGroup(List<SnapshotRecord> snapshots, List<VolumeRecord> sources) throws IOException {
        for (int i = 0; i < snapshots.size(); i++) {
            snapshot(snapshots.get(i), sources.get(i));
        }
    }

    /** Removes whatever storage exists for this snapshot ID; succeeds when there is none. */
    void deleteSnapshot(String snapshotId) throws IOException;

    /** IDs of the volumes and snapshots that have storage, so that records and disk can be reconciled. */
    Set<String> storedVolumeIds() throws IOException;

    Set<String> storedSnapshotIds() throws IOException;

    /**
     * Where staging mounts the volume: the staging path itself, unless the engine stages elsewhere
     * (a single-file volume on a file inside it). Asked once, before the mount is recorded; the
     * record keeps the answer, so unstaging undoes exactly that mount whatever has changed since.
     */
    default Path stageMountPoint(VolumeRecord volume, Path stagingPath) throws IOException {
        return stagingPath;
    }

    /** Makes the volume available at {@code mountPoint} (from {@link #stageMountPoint}; there, not yet mounted). */
    void stage(VolumeRecord volume, Path mountPoint, BindOptions options) throws IOException;

    /**
     * {@link #stage} with the node-stage secret's key: what staging an encrypted volume calls. Engines
     * that encrypt nothing have no use for a key and ignore it.
     */
    default void stage(VolumeRecord volume, Path mountPoint, BindOptions options, VolumeKey key) throws IOException {
        stage(volume, mountPoint, options);
    }

    /** What NodePublish binds into a pod: the stage's mount point, unless the engine has another (a device). */
    default Path publishSource(VolumeRecord volume, Path stageMountPoint) {
        return stageMountPoint;
    }

    /** Undoes {@link #stage}: unmounts what it mounted at {@code mountPoint}; succeeds when nothing is. */
    void unstage(VolumeRecord volume, Path mountPoint) throws IOException;

    /**
     * Refuses (FAILED_PRECONDITION) to delete a volume whose storage something still needs; called
     * before the volume is marked for deletion, so that a refused delete changes nothing.
     */
    default void requireDeletable(String volumeId) throws IOException {}

    /**
     * Space and inodes as seen at {@code path} (a staging or publish path of this volume): the
     * filesystem's figures, which an engine whose volumes have their own filesystem makes exact.
     */
    default VolumeUsage usage(VolumeRecord volume, Path path) throws IOException {
        return LibC.statvfs(path).usage();
    }

    VolumeHealth health(VolumeRecord volume);

    Capacity capacity() throws IOException;

    /** The pools this engine draws on, for the node's status; none for engines on a plain filesystem. */
    default List<PoolUsage> pools() throws IOException {
        return List.of();
    }

    /**
     * The engine's own metrics, read when Prometheus scrapes (its trash backlog, its layers, its pool's
     * events); capacity and pools are read through {@link #capacity()} and {@link #pools()}.
     */
    default List<Sample> samples() throws IOException {
        return List.of();
    }
}
