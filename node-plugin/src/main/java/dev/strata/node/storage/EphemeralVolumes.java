package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Ids;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.records.MountRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ephemeral inline volumes (CSIDriver {@code volumeLifecycleModes: Ephemeral}): Docker's "the data
 * lives and dies with the container". Kubelet sends no CreateVolume: NodePublish with
 * {@code csi.storage.k8s.io/ephemeral=true} makes a scratch volume named after kubelet's volume ID,
 * stages it under the data directory and publishes it; NodeUnpublish undoes all three. Every step is
 * the ordinary, recorded one, so a crash in between is finished by kubelet's retry or undone at
 * NodeUnpublish; a publish that fails undoes what it made at once, since kubelet never unpublishes
 * a mount that did not succeed.
 *
 * <p>The attributes come from the pod spec, which any pod author writes: they are untrusted. The
 * node's {@link EphemeralPolicy} fixes the engine and says which keys may be given (by default only
 * {@code size}), how big a volume and how many of them there may be.
 */
public final class EphemeralVolumes {
    public static final String CONTEXT_KEY = "csi.storage.k8s.io/ephemeral";
    /** Names CreateVolume refuses, so only this class makes volumes named so. */
    private static final String NAME_PREFIX = Ids.INLINE_VOLUME_PREFIX;

    private final LocalStorage storage;
    private final VolumeMounts mounts;
    private final MountRecords state;
    private final LockTable locks;
    private final EphemeralPolicy policy;
    private final long defaultBytes;
    /** Where inline volumes are staged: the driver's own directory, not one a CO names. */
    private final Path stagingRoot;
    /** Volumes being made now: counted against the limit before their records exist. */
    private final Set<String> admitting = ConcurrentHashMap.newKeySet();

    EphemeralVolumes(StorageConfig config, LocalStorage storage, VolumeMounts mounts, MountRecords state,
            LockTable locks) {
        this.storage = storage;
        this.mounts = mounts;
        this.state = state;
        this.locks = locks;
        this.policy = config.ephemeral();
        this.defaultBytes = config.defaultVolumeBytes();
        this.stagingRoot = config.dataDir().resolve("ephemeral");
    }

    public static boolean requested(Map<String, String> volumeContext) {
        return "true".equals(volumeContext.get(CONTEXT_KEY));
    }

    public static boolean isEphemeral(VolumeRecord volume) {
        return volume.name().startsWith(NAME_PREFIX);
    }

    /** The scratch volume behind kubelet's ID for an inline volume, if there is one. */
    Optional<VolumeRecord> find(String kubeletVolumeId) {
        return storage.findVolume(Ids.volumeId(NAME_PREFIX + kubeletVolumeId));
    }

    /**
     * Creates (or finds) the scratch volume and publishes it at {@code target}, after checking the
     * attributes against the node's policy; on failure nothing it made is left. Creating and deleting
     * the volume take their own locks; the mounts are made under the volume's lock, taken here.
     */
    void publish(String kubeletVolumeId, Path target, boolean readOnly, AccessMode mode, List<String> flags,
            Map<String, String> attributes) throws IOException {
        if (!policy.enabled()) {
            throw CsiException.invalidArgument("volume_context." + CONTEXT_KEY, "this node offers no inline volumes "
                    + "(--ephemeral-engine none); use a PersistentVolumeClaim or a generic ephemeral volume");
        }
        Map<String, String> parameters = policy.parameters(attributes);
        long size = policy.size(attributes.get(EphemeralPolicy.SIZE), defaultBytes);
        String name = NAME_PREFIX + kubeletVolumeId;
        VolumeRecord volume = admit(Ids.volumeId(name), () -> storage.createVolume(new VolumeSpec(name, size, 0,
                AccessType.MOUNT, Set.of(mode), parameters, Map.of(), null, List.of())));
        Exception failure;
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volume.id()))) {
            Path staging = stagingPath(volume);
            try {
                mounts.stage(volume, staging, mode, flags, VolumeKey.NONE, false);
                mounts.publish(volume, staging, target, readOnly, mode, flags);
                return;
            } catch (IOException | RuntimeException e) {
                if (!unmount(volume, staging, e)) {
                    throw e;
                }
                failure = e;
            }
        }
        try {
            storage.deleteVolume(volume.id());
        } catch (RuntimeException e) {
            failure.addSuppressed(e); // the volume stays; kubelet's retry of the publish finds and reuses it
        }
        if (failure instanceof IOException io) {
            throw io;
        }
        throw (RuntimeException) failure;
    }

    private interface Creation {
        VolumeRecord create() throws IOException;
    }

    /** Makes the volume unless the node already holds its limit of inline volumes. */
    private VolumeRecord admit(String id, Creation creation) throws IOException {
        if (storage.findVolume(id).isPresent()) {
            return creation.create(); // a retry: the volume is counted already
        }
        synchronized (admitting) {
            long held = storage.listVolumes().stream().filter(EphemeralVolumes::isEphemeral).count() + admitting.size();
            if (held >= policy.maxVolumes()) {
                throw CsiException.resourceExhausted("this node already holds " + held + " inline volumes, its limit "
                        + "(--ephemeral-max-volumes " + policy.maxVolumes() + ")");
            }
            admitting.add(id);
        }
        try {
            return creation.create();
        } finally {
            admitting.remove(id);
        }
    }

    /**
     * Undoes the mounts of a publish that failed, and says whether the volume is to be deleted: not
     * when an earlier call published it elsewhere, nor when the undoing failed too.
     */
    private boolean unmount(VolumeRecord volume, Path staging, Exception cause) {
        try {
            if (!state.get(volume.id()).publications().isEmpty()) {
                return false;
            }
            mounts.unstage(volume, staging);
            Files.deleteIfExists(staging);
            return true;
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e);
            return false;
        }
    }

    /** Unpublishes, unstages and deletes the scratch volume. */
    void unpublish(VolumeRecord volume, Path target) throws IOException {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volume.id()))) {
            mounts.unpublish(volume, target);
            if (!state.get(volume.id()).publications().isEmpty()) {
                return; // published elsewhere too (kubelet never does this for inline volumes)
            }
            Path staging = stagingPath(volume);
            mounts.unstage(volume, staging);
            Files.deleteIfExists(staging);
        }
        storage.deleteVolume(volume.id());
    }

    private Path stagingPath(VolumeRecord volume) {
        return stagingRoot.resolve(volume.id());
    }
}
