package dev.strata.controller.cluster;

import dev.strata.api.v1alpha1.Conversions;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.SecretCopies;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.common.CsiException;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.VolumeSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Optional;

/**
 * Where a new volume goes, decided once, when its resource is first written: its node; and when its
 * source snapshot is on another node, the backup it is restored from there and the Secret that
 * snapshot's backup was stored with (null: the node's own). No I/O: the caller hands in the nodes and
 * the source as its informers hold them.
 */
record Placement(String node, String backupUrl, String backupSecretName) {
    /**
     * Its source's node when the request allows it (a local clone or restore); for a snapshot the
     * request keeps off its node, the first allowed node that can hold it, restored there from the
     * snapshot's stored backup (Flocker's move); for a volume with no source, the first candidate whose
     * engine has room for it (any node when the request does not constrain it).
     */
    static Placement of(VolumeSpec spec, String engine, RegisteredNodes nodes, Optional<HasMetadata> found) {
        if (spec.source() == null) {
            return new Placement(nodes.place(engine, spec.requiredBytes(), spec.nodes()), null, null);
        }
        if (spec.parameters().containsKey(BackupRef.FROM_PARAMETER)) {
            // refused here, as the node would refuse it, before any resource is written
            throw CsiException.invalidArgument("parameters." + BackupRef.FROM_PARAMETER, "a volume starts from a "
                    + "backup or from a content source, not both");
        }
        boolean snapshot = spec.source().kind() == ContentSource.Kind.SNAPSHOT;
        String field = snapshot ? "volume_content_source.snapshot" : "volume_content_source.volume";
        HasMetadata source = found.orElseThrow(() -> CsiException.notFound(field + ": " + spec.source().id()
                + " does not exist"));
        String node = source.getMetadata().getLabels().get(Resources.NODE_LABEL);
        if (spec.nodes().isEmpty() || spec.nodes().contains(node)) {
            return new Placement(node, null, null);
        }
        BackupRef backup = snapshot ? Conversions.snapshotRecord((StrataSnapshot) source).backup() : null;
        if (backup == null || backup.phase() != BackupRef.Phase.STORED) {
            throw CsiException.resourceExhausted("accessibility_requirements: " + field + " "
                    + spec.source().id() + " is on node " + node + ", which the requirements exclude"
                    + (snapshot ? ", and it has no stored backup to restore elsewhere" : ""));
        }
        return new Placement(nodes.place(engine, spec.requiredBytes(), spec.nodes()), backup.url(),
                ((StrataSnapshot) source).getSpec().getSecretName());
    }

    /**
     * The Secret the volume's restore reads: a copy of the call's secrets when it restores from a backup
     * and carries any; else, restoring its source snapshot's backup, that snapshot's; else none.
     */
    String restoreSecretName(String volumeId, VolumeSpec spec) {
        boolean restores = backupUrl != null || spec.parameters().containsKey(BackupRef.FROM_PARAMETER);
        if (!restores) {
            return null;
        }
        return spec.secrets().isEmpty() ? backupSecretName : SecretCopies.name(volumeId);
    }
}
