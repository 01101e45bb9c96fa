package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.model.AccessMode;
import dev.strata.common.port.Attacher;
import dev.strata.common.model.Attachment;
import dev.strata.common.model.VolumeRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ControllerPublish on a standalone host: which node a volume is published to, kept in its record,
 * with at most {@code maxVolumesPerNode} volumes published to one node.
 */
final class Attachments implements Attacher {
    private final String nodeId;
    private final long maxVolumesPerNode;
    private final Records records;
    private final Engines engines;
    private final LockTable locks;
    /** Counting and adding must not interleave with another volume's publish; the volume locks do not cover that. */
    private final Object limit = new Object();

    Attachments(String nodeId, long maxVolumesPerNode, Records records, Engines engines, LockTable locks) {
        this.nodeId = nodeId;
        this.maxVolumesPerNode = maxVolumesPerNode;
        this.records = records;
        this.engines = engines;
        this.locks = locks;
    }

    @Override
    public Map<String, String> publishVolume(String volumeId, String node, boolean readOnly, AccessMode mode) {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volumeId))) {
            VolumeRecord v = records.requireVolume(volumeId);
            if (!node.equals(nodeId)) {
                throw CsiException.notFound("node_id: node " + node + " is not served by this plugin");
            }
            if (!engines.get(v.engine()).traits().accessModes().contains(mode)) {
                throw CsiException.invalidArgument("volume_capability.access_mode", "the " + v.engine()
                        + " engine does not support " + mode);
            }
            Attachment wanted = new Attachment(node, readOnly, mode);
            Optional<Attachment> current = v.attachments().stream().filter(a -> a.nodeId().equals(node)).findFirst();
            if (current.isPresent()) {
                if (!current.get().equals(wanted)) {
                    throw CsiException.alreadyExists("volume " + volumeId + " is already published to node " + node
                            + " with readonly=" + current.get().readOnly() + " and mode " + current.get().mode());
                }
                return publishContext(v);
            }
            synchronized (limit) {
                long attached = records.volumes().all().stream()
                        .filter(o -> o.attachments().stream().anyMatch(a -> a.nodeId().equals(node))).count();
                if (attached >= maxVolumesPerNode) {
                    throw CsiException.resourceExhausted("node " + node + " already has " + attached
                            + " volumes published, its limit");
                }
                List<Attachment> attachments = new ArrayList<>(v.attachments());
                attachments.add(wanted);
                records.volumes().put(v.withAttachments(attachments));
            }
            return publishContext(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> publishContext(VolumeRecord v) {
        return Map.of("strata.csi.dev/engine", v.engine());
    }

    @Override
    public void unpublishVolume(String volumeId, String node) {
        try (LockTable.Held held = locks.acquire(LockKeys.volume(volumeId))) {
            Optional<VolumeRecord> found = records.readyVolume(volumeId);
            if (found.isEmpty()) {
                return;
            }
            VolumeRecord v = found.get();
            List<Attachment> attachments = new ArrayList<>(v.attachments());
            if (attachments.removeIf(a -> node.isEmpty() || a.nodeId().equals(node))) {
                records.volumes().put(v.withAttachments(attachments));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
