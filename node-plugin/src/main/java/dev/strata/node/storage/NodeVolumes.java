package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.Validate;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeUsage;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.iolimit.IoThrottle;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import dev.strata.node.records.MountRecord;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's side of a volume, as kubelet drives it: stage, publish, and undo both, for volumes with
 * records, static hostpath volumes and inline volumes alike, and what kubelet asks about a volume in
 * use (its health and usage). A call names a volume by any of its names (an ID, kubelet's ID of an
 * inline volume, a static volume's host path) and takes that volume's lock itself ({@link LockKeys});
 * {@link VolumeMounts} and {@link EphemeralVolumes} do the work. Reads take no lock.
 */
public final class NodeVolumes {
    /** Checks a request's capability against the volume and its engine, and says the access mode. */
    public interface CapabilityCheck {
        AccessMode modeFor(EngineTraits traits, VolumeRecord volume);
    }

    /** What kubelet asks of a volume in use: its health and, for a mounted filesystem, its usage. */
    public record Stats(VolumeRecord volume, VolumeHealth health, Optional<VolumeUsage> usage) {}

    private static final Logger LOG = LoggerFactory.getLogger(NodeVolumes.class);

    private final LocalStorage storage;
    private final Engines engines;
    private final MountRecords state;
    private final LockTable locks;
    private final VolumeMounts mounts;
    private final EphemeralVolumes inline;

    NodeVolumes(StorageConfig config, LocalStorage storage, Engines engines, MountRecords state, LockTable locks,
            Mounter mounter, IoThrottle throttle) {
        this.storage = storage;
        this.engines = engines;
        this.state = state;
        this.locks = locks;
        this.mounts = new VolumeMounts(config, engines, state, mounter, throttle);
        this.inline = new EphemeralVolumes(config, storage, mounts, state, locks);
    }

    /**
     * At start: holds the pods of every publication to their volumes' I/O limits again (the kernel
     * kept them, but a v1 node's new containers need the sweep, which starts empty). A publication
     * that fails is logged and left: its pod keeps what the kernel has.
     */
    void limitPublishedIo() {
        for (MountRecord record : state.all()) {
            for (var publication : record.publications()) {
                try (LockTable.Held held = lock(record.volumeId())) {
                    mounts.limitIo(resolve(record.volumeId()), Path.of(publication.targetPath()));
                } catch (IOException | RuntimeException e) {
                    LOG.warn("I/O limits of {} at {}: {}", record.volumeId(), publication.targetPath(), e.toString());
                }
            }
        }
    }

    /** NodeStageVolume at the CO's {@code staging} path; {@code key} opens an encrypted volume. */
    public void stage(String volumeId, Path staging, CapabilityCheck check, List<String> flags, VolumeKey key)
            throws IOException {
        try (LockTable.Held held = lock(volumeId)) {
            VolumeRecord volume = resolve(volumeId);
            mounts.stage(volume, staging, check.modeFor(engines.get(volume.engine()).traits(), volume), flags, key,
                    true);
        }
    }

    /** NodeUnstageVolume: done already when the volume is not staged at {@code staging}. */
    public void unstage(String volumeId, Path staging) throws IOException {
        try (LockTable.Held held = lock(volumeId)) {
            Optional<VolumeRecord> volume = resolveUnlessDone(volumeId,
                    r -> staging.toString().equals(r.stagingPath()));
            if (volume.isPresent()) {
                mounts.unstage(volume.get(), staging);
            }
        }
    }

    /** NodePublishVolume of a staged volume; read-only when asked or when the access mode is. */
    public void publish(String volumeId, Path staging, Path target, boolean readOnly, CapabilityCheck check,
            List<String> flags) throws IOException {
        try (LockTable.Held held = lock(volumeId)) {
            VolumeRecord volume = resolve(volumeId);
            AccessMode mode = check.modeFor(engines.get(volume.engine()).traits(), volume);
            mounts.publish(volume, staging, target, readOnly || mode.readOnly(), mode, flags);
        }
    }

    /** NodePublishVolume of an inline volume: made here, from untrusted {@code attributes}. */
    public void publishInline(String kubeletVolumeId, Path target, boolean readOnly, AccessMode mode,
            List<String> flags, Map<String, String> attributes) throws IOException {
        inline.publish(kubeletVolumeId, target, readOnly || mode.readOnly(), mode, flags, attributes);
    }

    /** NodeUnpublishVolume; an inline volume is unstaged and deleted with its last publication. */
    public void unpublish(String volumeId, Path target) throws IOException {
        Optional<VolumeRecord> found = resolveUnlessDone(volumeId,
                r -> r.publication(target.toString()).isPresent());
        if (found.isEmpty()) {
            return;
        }
        if (EphemeralVolumes.isEphemeral(found.get())) {
            inline.unpublish(found.get(), target);
            return;
        }
        try (LockTable.Held held = lock(volumeId)) {
            mounts.unpublish(resolve(volumeId), target);
        }
    }

    /** NodeGetVolumeStats of the volume staged or published at {@code volumePath}. */
    public Stats stats(String volumeId, String volumePath) throws IOException {
        VolumeRecord volume = resolve(volumeId);
        Path path = requireUsedAt(volume.id(), volumePath);
        VolumeEngine engine = engines.get(volume.engine());
        VolumeHealth health = engine.health(volume);
        if (!health.abnormal() && !MountTable.read().isMountPoint(path)) {
            health = VolumeHealth.abnormal("volume is no longer mounted at " + path);
        }
        // A raw block device has no filesystem to count use in: its size is all there is to say.
        Optional<VolumeUsage> usage = volume.accessType() == AccessType.MOUNT ? Optional.of(engine.usage(volume, path))
                : Optional.empty();
        return new Stats(volume, health, usage);
    }

    /** The volume staged or published at {@code volumePath} (NodeExpandVolume's check). */
    public VolumeRecord usedAt(String volumeId, String volumePath) {
        VolumeRecord volume = resolve(volumeId);
        requireUsedAt(volume.id(), volumePath);
        return volume;
    }

    /**
     * The volume a node call names: one of Strata's IDs, kubelet's ID of an inline volume, or the
     * host path of a static hostpath volume. Anything else is refused before it reaches storage.
     */
    private VolumeRecord resolve(String volumeId) {
        Optional<VolumeRecord> byHandle = engines.claiming(volumeId).map(e -> e.resolve(volumeId));
        if (byHandle.isPresent()) {
            return byHandle.get();
        }
        Validate.id("volume_id", volumeId);
        return storage.findVolume(volumeId).or(() -> inline.find(volumeId))
                .orElseThrow(() -> CsiException.notFound("volume " + volumeId + " does not exist"));
    }

    /**
     * The volume an undoing call names, or none when no volume has that name and nothing of one is
     * recorded where the call points: what the call undoes is undone already. kubelet retries an
     * error from NodeUnpublishVolume or NodeUnstageVolume for ever, so NOT_FOUND there kept a pod
     * Terminating after its inline volume went with an answer that was lost.
     */
    private Optional<VolumeRecord> resolveUnlessDone(String volumeId, Predicate<MountRecord> heldThere) {
        try {
            return Optional.of(resolve(volumeId));
        } catch (CsiException e) {
            if (e.code() != Status.Code.NOT_FOUND || heldThere.test(state.get(idOf(volumeId)))) {
                throw e;
            }
            return Optional.empty();
        }
    }

    /** The lock of the volume a call names, under its ID, so that all its names share one lock. */
    private LockTable.Held lock(String volumeId) {
        return locks.acquire(LockKeys.volume(idOf(volumeId)));
    }

    /** The ID under which a volume's lock and mount records are kept, whatever name a call gives it. */
    private String idOf(String volumeId) {
        return engines.claiming(volumeId).map(e -> e.idOf(volumeId)).orElse(volumeId);
    }

    /**
     * The path must be where this volume is staged or published, and still exist. It is matched
     * against the records before the filesystem is touched, so no other path is ever looked at.
     */
    private Path requireUsedAt(String volumeId, String volumePath) {
        MountRecord current = state.get(volumeId);
        if (!volumePath.equals(current.stagingPath()) && current.publication(volumePath).isEmpty()) {
            throw CsiException.notFound("volume_path: volume " + volumeId + " is not staged or published at "
                    + Validate.printable(volumePath));
        }
        Path path = Path.of(volumePath);
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw CsiException.notFound("volume_path: " + path + " does not exist");
        }
        return path;
    }
}
