package dev.strata.cli;

import dev.strata.common.Validate;
import dev.strata.common.VolumeContext;
import dev.strata.csi.v1.ControllerServiceCapability;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.ListVolumesResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code stratactl system events} (and {@code stratactl events}): what happens to volumes and snapshots,
 * one line per change as it happens, like {@code docker events}. CSI has no stream of events, so it
 * polls ListVolumes and ListSnapshots and prints the differences: created, removed, resized, published
 * on or unpublished from a node, turned abnormal or healthy again; snapshots created, ready, removed.
 * It works against any CSI driver that lists.
 */
@Command(name = "events", description = "Show changes to volumes and snapshots as they happen, like docker events")
final class EventsCommand extends CsiCommand {
    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1",
            description = "Seconds between looks (default: ${DEFAULT-VALUE})")
    double intervalSeconds;

    @Option(names = "--duration", paramLabel = "SECONDS",
            description = "Stop after SECONDS (default: until interrupted)")
    Double durationSeconds;

    record VolumeView(String name, String engine, long bytes, Set<String> nodes, String condition) {}

    record SnapshotView(String name, String source, boolean ready) {}

    @Override
    protected int run(CsiClient client) throws Exception {
        if (!(intervalSeconds > 0)) {
            throw new CliException("--interval: must be positive");
        }
        long end = durationSeconds == null ? Long.MAX_VALUE
                : System.nanoTime() + (long) (durationSeconds * 1e9);
        Map<String, VolumeView> volumes = volumes(client);
        Map<String, SnapshotView> snapshots = snapshots(client);
        while (System.nanoTime() < end) {
            long sleep = Math.min((long) (intervalSeconds * 1000), Math.max(0, (end - System.nanoTime()) / 1_000_000));
            Thread.sleep(sleep);
            Map<String, VolumeView> nowVolumes = volumes(client);
            Map<String, SnapshotView> nowSnapshots = snapshots(client);
            diffVolumes(volumes, nowVolumes);
            diffSnapshots(snapshots, nowSnapshots);
            out().flush();
            volumes = nowVolumes;
            snapshots = nowSnapshots;
        }
        return OK;
    }

    private static Map<String, VolumeView> volumes(CsiClient client) {
        Map<String, VolumeView> views = new LinkedHashMap<>();
        for (ListVolumesResponse.Entry e : client.listVolumes()) {
            var v = e.getVolume();
            String condition = e.hasStatus() && e.getStatus().hasVolumeCondition()
                    && e.getStatus().getVolumeCondition().getAbnormal()
                    ? e.getStatus().getVolumeCondition().getMessage() : null;
            views.put(v.getVolumeId(), new VolumeView(v.getVolumeContextMap().getOrDefault(VolumeContext.NAME,
                    v.getVolumeId()), v.getVolumeContextMap().getOrDefault(VolumeContext.ENGINE, "-"),
                    v.getCapacityBytes(), new TreeSet<>(e.hasStatus() ? e.getStatus().getPublishedNodeIdsList()
                            : List.of()), condition));
        }
        return views;
    }

    private static Map<String, SnapshotView> snapshots(CsiClient client) throws IOException {
        if (!client.hasController(ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS)) {
            return Map.of();
        }
        Map<String, String> names = DriverRecords.of(client).isPresent()
                ? DriverRecords.of(client).get().snapshotNames() : Map.of();
        Map<String, SnapshotView> views = new LinkedHashMap<>();
        for (ListSnapshotsResponse.Entry e : client.listSnapshots("", "")) {
            var s = e.getSnapshot();
            views.put(s.getSnapshotId(), new SnapshotView(names.getOrDefault(s.getSnapshotId(), s.getSnapshotId()),
                    s.getSourceVolumeId(), s.getReadyToUse()));
        }
        return views;
    }

    private void diffVolumes(Map<String, VolumeView> before, Map<String, VolumeView> after) {
        for (Map.Entry<String, VolumeView> e : after.entrySet()) {
            VolumeView now = e.getValue();
            VolumeView was = before.get(e.getKey());
            if (was == null) {
                print("volume", "create", now.name(), "engine=" + now.engine() + ", size=" + Sizes.human(now.bytes()));
                was = new VolumeView(now.name(), now.engine(), now.bytes(), Set.of(), null);
            }
            if (now.bytes() != was.bytes()) {
                print("volume", "resize", now.name(), Sizes.human(was.bytes()) + " to " + Sizes.human(now.bytes()));
            }
            for (String node : difference(now.nodes(), was.nodes())) {
                print("volume", "publish", now.name(), "node=" + node);
            }
            for (String node : difference(was.nodes(), now.nodes())) {
                print("volume", "unpublish", now.name(), "node=" + node);
            }
            if (now.condition() != null && !now.condition().equals(was.condition())) {
                print("volume", "abnormal", now.name(), now.condition());
            } else if (now.condition() == null && was.condition() != null) {
                print("volume", "healthy", now.name(), null);
            }
        }
        for (Map.Entry<String, VolumeView> e : before.entrySet()) {
            if (!after.containsKey(e.getKey())) {
                print("volume", "destroy", e.getValue().name(), null);
            }
        }
    }

    private void diffSnapshots(Map<String, SnapshotView> before, Map<String, SnapshotView> after) {
        for (Map.Entry<String, SnapshotView> e : after.entrySet()) {
            SnapshotView now = e.getValue();
            SnapshotView was = before.get(e.getKey());
            if (was == null) {
                print("snapshot", "create", now.name(), "source=" + now.source() + (now.ready() ? "" : ", not ready"));
            } else if (now.ready() && !was.ready()) {
                print("snapshot", "ready", now.name(), null);
            }
        }
        for (Map.Entry<String, SnapshotView> e : before.entrySet()) {
            if (!after.containsKey(e.getKey())) {
                print("snapshot", "destroy", e.getValue().name(), null);
            }
        }
    }

    private static Set<String> difference(Set<String> a, Set<String> b) {
        Set<String> d = new TreeSet<>(a);
        d.removeAll(new HashSet<>(b));
        return d;
    }

    /** "TIME TYPE ACTION NAME (DETAIL)", as docker events prints; what the driver sent is escaped. */
    private void print(String type, String action, String name, String detail) {
        out().println(Instant.now() + " " + type + " " + action + " " + Validate.escape(name)
                + (detail == null ? "" : " (" + Validate.escape(detail) + ")"));
    }
}
