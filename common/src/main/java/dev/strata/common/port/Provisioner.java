package dev.strata.common.port;

import dev.strata.common.model.Capacity;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The controller side of storage: what the CSI Controller service delegates to. Standalone mode
 * implements it with direct engine calls on this host; cluster mode implements it through custom
 * resources. Implementations are idempotent: a repeated call with the same arguments has the outcome
 * of the first. Failures are {@code CsiException}s carrying the code the CSI spec names.
 *
 * <p>What only some providers can do is a port of its own ({@link Attacher}, {@link GroupSnapshotter}):
 * the CSI services advertise a capability exactly when a provider of it is wired in, so no provider
 * answers UNIMPLEMENTED for something it was never asked to do.
 */
public interface Provisioner {
    /** Creates the volume, or returns the one already created under this name with compatible arguments. */
    VolumeRecord createVolume(VolumeSpec spec);

    /** Deletes the volume; deleting an unknown volume succeeds. */
    void deleteVolume(String volumeId);

    Optional<VolumeRecord> findVolume(String volumeId);

    /** Every volume that is ready, sorted by ID. */
    List<VolumeRecord> listVolumes();

    /** Grows the volume to at least {@code requiredBytes}; never shrinks it. */
    VolumeRecord expandVolume(String volumeId, long requiredBytes, long limitBytes);

    /** Applies mutable parameters (a VolumeAttributesClass) to an existing volume. */
    VolumeRecord modifyVolume(String volumeId, Map<String, String> mutableParameters);

    /** Takes the snapshot; {@code secrets} are the call's (a backup target's credentials and key). */
    SnapshotRecord createSnapshot(String name, String sourceVolumeId, Map<String, String> parameters, Secrets secrets);

    /** Deletes the snapshot (and its backup, opened with {@code secrets}); deleting an unknown one succeeds. */
    void deleteSnapshot(String snapshotId, Secrets secrets);

    Optional<SnapshotRecord> findSnapshot(String snapshotId);

    /** Every snapshot that is ready, sorted by ID. */
    List<SnapshotRecord> listSnapshots();

    /** Space left for new volumes with these parameters on this node (null = any node). */
    Capacity capacity(Map<String, String> parameters, String node);

    /** The nodes where a volume is in use: attached or mounted. */
    List<String> publishedNodes(String volumeId);

    VolumeHealth health(String volumeId);

    /** The engine that {@code parameters} select, or INVALID_ARGUMENT naming the parameter. */
    EngineTraits engineFor(Map<String, String> parameters);

    /** The nodes this provisioner can place volumes on. */
    List<String> nodes();
}
