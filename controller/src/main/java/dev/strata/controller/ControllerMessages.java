package dev.strata.controller;

import com.google.protobuf.Timestamp;
import dev.strata.common.BuildInfo;
import dev.strata.common.CsiException;
import dev.strata.common.Validate;
import dev.strata.common.VolumeContext;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.port.Provisioner;
import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.Topology;
import dev.strata.csi.v1.TopologyRequirement;
import dev.strata.csi.v1.Volume;
import dev.strata.csi.v1.VolumeCondition;
import dev.strata.csi.v1.VolumeContentSource;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Between the Controller's CSI messages and Strata's model, both ways: request fields into model
 * values (INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the field), records into CSI replies. Kept
 * apart from the services so that they read as what each call does, and the model never sees a
 * protobuf type.
 */
final class ControllerMessages {
    private ControllerMessages() {}

    /** {required, limit}, 0 meaning "not given". */
    static long[] capacityRange(boolean present, CapacityRange range) {
        if (!present) {
            return new long[] {0, 0};
        }
        long required = range.getRequiredBytes();
        long limit = range.getLimitBytes();
        if (required < 0 || limit < 0) {
            throw CsiException.invalidArgument("capacity_range", "bytes must not be negative");
        }
        if (limit > 0 && required > limit) {
            throw CsiException.invalidArgument("capacity_range", "required_bytes (" + required
                    + ") is above limit_bytes (" + limit + ")");
        }
        return new long[] {required, limit};
    }

    static ContentSource contentSource(boolean present, VolumeContentSource source) {
        if (!present) {
            return null;
        }
        return switch (source.getTypeCase()) {
            case SNAPSHOT -> ContentSource.snapshot(Validate.id("volume_content_source.snapshot.snapshot_id",
                    source.getSnapshot().getSnapshotId()));
            case VOLUME -> ContentSource.volume(Validate.id("volume_content_source.volume.volume_id",
                    source.getVolume().getVolumeId()));
            case TYPE_NOT_SET -> throw CsiException.invalidArgument("volume_content_source",
                    "names no snapshot or volume");
        };
    }

    /**
     * The nodes a new volume may live on, in the order to try them: the preferred topologies this
     * provisioner serves (WaitForFirstConsumer puts the pod's node first), then the requisite ones;
     * empty when the request does not constrain it.
     */
    static List<String> candidateNodes(Provisioner p, boolean present, TopologyRequirement requirement) {
        if (!present || requirement.getRequisiteCount() + requirement.getPreferredCount() == 0) {
            return List.of();
        }
        List<String> nodes = p.nodes();
        Set<String> result = new LinkedHashSet<>();
        for (List<Topology> candidates : List.of(requirement.getPreferredList(), requirement.getRequisiteList())) {
            for (Topology t : candidates) {
                String node = t.getSegmentsOrDefault(BuildInfo.TOPOLOGY_KEY, null);
                if (node != null && nodes.contains(node)) {
                    result.add(node);
                }
            }
        }
        if (!result.isEmpty()) {
            return List.copyOf(result);
        }
        throw CsiException.resourceExhausted("accessibility_requirements: no requested topology is served by this "
                + "plugin (it serves " + BuildInfo.TOPOLOGY_KEY + " in " + nodes + ")");
    }

    static Volume toCsi(VolumeRecord v) {
        Volume.Builder b = Volume.newBuilder()
                .setVolumeId(v.id())
                .setCapacityBytes(v.capacityBytes())
                .putVolumeContext(VolumeContext.NAME, v.name())
                .putVolumeContext(VolumeContext.ENGINE, v.engine())
                .putAllVolumeContext(VolumeContext.attributes(v.attributes()))
                .addAccessibleTopology(Topology.newBuilder().putSegments(BuildInfo.TOPOLOGY_KEY, v.nodeId()));
        if (v.source() != null) {
            VolumeContentSource.Builder source = VolumeContentSource.newBuilder();
            if (v.source().kind() == ContentSource.Kind.SNAPSHOT) {
                source.setSnapshot(VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(v.source().id()));
            } else {
                source.setVolume(VolumeContentSource.VolumeSource.newBuilder().setVolumeId(v.source().id()));
            }
            b.setContentSource(source);
        }
        return b.build();
    }

    static Snapshot toCsi(SnapshotRecord s) {
        return Snapshot.newBuilder()
                .setSnapshotId(s.id())
                .setSourceVolumeId(s.sourceVolumeId())
                .setSizeBytes(s.sizeBytes())
                .setCreationTime(timestamp(s.createdAt()))
                .setReadyToUse(s.readyToUse())
                .setGroupSnapshotId(s.groupSnapshotId() == null ? "" : s.groupSnapshotId())
                .build();
    }

    static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    static VolumeCondition condition(VolumeHealth health) {
        return VolumeCondition.newBuilder().setAbnormal(health.abnormal()).setMessage(health.message()).build();
    }
}
