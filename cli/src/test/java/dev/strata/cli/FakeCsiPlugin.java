package dev.strata.cli;

import dev.strata.common.VolumeContext;
import com.google.protobuf.Timestamp;
import dev.strata.common.model.Ids;
import dev.strata.csi.v1.*;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * An in-memory CSI plugin on a Unix socket: Identity, Controller (with publish, snapshots, get-volume)
 * and Node (with staging). It records every call as "Method volume-id" and pages lists two entries at a
 * time so that the client has to follow next_token.
 */
final class FakeCsiPlugin implements AutoCloseable {
    static final String DRIVER = "fake.csi.test";
    static final String NODE_ID = "fake-node";
    static final int PAGE = 2;

    final NavigableMap<String, Volume> volumes = new ConcurrentSkipListMap<>();
    final NavigableMap<String, Snapshot> snapshots = new ConcurrentSkipListMap<>();
    final Map<String, Set<String>> attachments = new ConcurrentHashMap<>();
    final Map<String, CreateVolumeRequest> createRequests = new ConcurrentHashMap<>();
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    final Set<String> failingMethods = ConcurrentHashMap.newKeySet();
    /** Volumes whose slow restore has begun (parameter restoreMillis). */
    final Set<String> restoring = ConcurrentHashMap.newKeySet();

    private final Server server;
    private final EventLoopGroup group;
    /** false: a plugin like csi-driver-host-path without attach or staging (no ControllerPublish, no NodeStage). */
    private final boolean attachAndStage;
    /** Like Strata: the data directory its manifest names, and the records it keeps there (null: neither). */
    private final Path dataDir;
    final FakeRecords records;

    FakeCsiPlugin(Path socket) throws IOException {
        this(socket, true);
    }

    FakeCsiPlugin(Path socket, boolean attachAndStage) throws IOException {
        this(socket, attachAndStage, null);
    }

    @SuppressWarnings("deprecation")
    FakeCsiPlugin(Path socket, boolean attachAndStage, Path dataDir) throws IOException {
        this.attachAndStage = attachAndStage;
        this.dataDir = dataDir;
        this.records = dataDir == null ? null : new FakeRecords(dataDir);
        group = new EpollEventLoopGroup(1);
        server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group).workerEventLoopGroup(group)
                .addService(new Identity()).addService(new Controller()).addService(new Node())
                .build().start();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    /** Calls for one volume, in the order they arrived, method names only. */
    List<String> callsFor(String volumeId) {
        synchronized (calls) {
            return calls.stream().filter(c -> c.endsWith(" " + volumeId)).map(c -> c.split(" ")[0]).toList();
        }
    }

    private <T> void answer(String method, String volumeId, StreamObserver<T> out, Supplier<T> body) {
        calls.add(method + " " + volumeId);
        try {
            if (failingMethods.contains(method)) {
                throw Status.INTERNAL.withDescription("injected failure").asRuntimeException();
            }
            out.onNext(body.get());
            out.onCompleted();
        } catch (StatusRuntimeException e) {
            out.onError(e);
        }
    }

    private static StatusRuntimeException error(Status status, String description) {
        return status.withDescription(description).asRuntimeException();
    }

    private Volume volume(String id) {
        Volume v = volumes.get(id);
        if (v == null) {
            throw error(Status.NOT_FOUND, "volume " + id);
        }
        return v;
    }

    /** A page of a sorted map, the token being the last key of the previous page. */
    private static <V> List<V> page(NavigableMap<String, V> all, String token, List<String> next) {
        NavigableMap<String, V> rest = token.isEmpty() ? all : all.tailMap(token, false);
        List<V> page = rest.values().stream().limit(PAGE).toList();
        if (rest.size() > PAGE) {
            next.add(rest.keySet().stream().skip(PAGE - 1).findFirst().orElseThrow());
        }
        return page;
    }

    private boolean attached(String volumeId) {
        return !attachments.getOrDefault(volumeId, Set.of()).isEmpty();
    }

    private final class Identity extends IdentityGrpc.IdentityImplBase {
        @Override
        public void getPluginInfo(GetPluginInfoRequest req, StreamObserver<GetPluginInfoResponse> out) {
            answer("GetPluginInfo", "", out, () -> {
                var info = GetPluginInfoResponse.newBuilder().setName(DRIVER).setVendorVersion("1.0");
                if (dataDir != null) {
                    info.putManifest("strata.csi.dev/data-dir", dataDir.toString());
                }
                return info.build();
            });
        }

        @Override
        public void getPluginCapabilities(GetPluginCapabilitiesRequest req,
                StreamObserver<GetPluginCapabilitiesResponse> out) {
            answer("GetPluginCapabilities", "", out, () -> GetPluginCapabilitiesResponse.newBuilder()
                    .addCapabilities(PluginCapability.newBuilder().setService(PluginCapability.Service.newBuilder()
                            .setType(PluginCapability.Service.Type.CONTROLLER_SERVICE)))
                    .build());
        }

        @Override
        public void probe(ProbeRequest req, StreamObserver<ProbeResponse> out) {
            answer("Probe", "", out, ProbeResponse::getDefaultInstance);
        }
    }

    private final class Controller extends ControllerGrpc.ControllerImplBase {
        @Override
        public void controllerGetCapabilities(ControllerGetCapabilitiesRequest req,
                StreamObserver<ControllerGetCapabilitiesResponse> out) {
            answer("ControllerGetCapabilities", "", out, () -> {
                var resp = ControllerGetCapabilitiesResponse.newBuilder();
                List<ControllerServiceCapability.RPC.Type> types = new ArrayList<>(List.of(
                        ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                        ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
                        ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
                        ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
                        ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
                        ControllerServiceCapability.RPC.Type.GET_VOLUME));
                if (attachAndStage) {
                    types.add(ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME);
                }
                for (var type : types) {
                    resp.addCapabilities(ControllerServiceCapability.newBuilder()
                            .setRpc(ControllerServiceCapability.RPC.newBuilder().setType(type)));
                }
                return resp.build();
            });
        }

        @Override
        public void createVolume(CreateVolumeRequest req, StreamObserver<CreateVolumeResponse> out) {
            String id = Ids.volumeId(req.getName());
            answer("CreateVolume", id, out, () -> {
                String fail = req.getParametersMap().get("fail");
                if (fail != null) {
                    throw error(Status.fromCode(Status.Code.valueOf(fail)), "injected failure");
                }
                restoreSlowly(id, req.getParametersMap().get("restoreMillis"));
                createRequests.put(id, req);
                Volume.Builder v = Volume.newBuilder().setVolumeId(id)
                        .setCapacityBytes(req.getCapacityRange().getRequiredBytes())
                        .putVolumeContext(VolumeContext.ENGINE, "fake");
                if (!req.getParametersMap().containsKey("anonymous")) {
                    v.putVolumeContext(VolumeContext.NAME, req.getName());
                }
                if (req.hasVolumeContentSource()) {
                    VolumeContentSource src = req.getVolumeContentSource();
                    if (src.hasSnapshot() && !snapshots.containsKey(src.getSnapshot().getSnapshotId())) {
                        throw error(Status.NOT_FOUND, "snapshot " + src.getSnapshot().getSnapshotId());
                    }
                    if (src.hasVolume()) {
                        volume(src.getVolume().getVolumeId());
                    }
                    v.setContentSource(src);
                }
                Volume created = volumes.computeIfAbsent(id, k -> v.build());
                return CreateVolumeResponse.newBuilder().setVolume(created).build();
            });
        }

        /**
         * Like Strata's restore from a backup: the first call works for {@code millis} (past a short
         * client deadline) under the volume's lock; calls meanwhile are ABORTED.
         */
        private void restoreSlowly(String id, String millis) {
            if (millis == null || volumes.containsKey(id)) {
                return;
            }
            if (!restoring.add(id)) {
                throw error(Status.ABORTED, "volume " + id + " is being restored");
            }
            try {
                Thread.sleep(Long.parseLong(millis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void deleteVolume(DeleteVolumeRequest req, StreamObserver<DeleteVolumeResponse> out) {
            answer("DeleteVolume", req.getVolumeId(), out, () -> {
                if (!attachments.getOrDefault(req.getVolumeId(), Set.of()).isEmpty()) {
                    throw error(Status.FAILED_PRECONDITION, "volume " + req.getVolumeId() + " is attached");
                }
                volumes.remove(req.getVolumeId());
                return DeleteVolumeResponse.getDefaultInstance();
            });
        }

        @Override
        public void listVolumes(ListVolumesRequest req, StreamObserver<ListVolumesResponse> out) {
            answer("ListVolumes", "", out, () -> {
                List<String> next = new ArrayList<>();
                var resp = ListVolumesResponse.newBuilder();
                page(volumes, req.getStartingToken(), next)
                        .forEach(v -> resp.addEntries(ListVolumesResponse.Entry.newBuilder().setVolume(v)));
                return resp.setNextToken(next.isEmpty() ? "" : next.get(0)).build();
            });
        }

        @Override
        public void controllerGetVolume(ControllerGetVolumeRequest req, StreamObserver<ControllerGetVolumeResponse> out) {
            answer("ControllerGetVolume", req.getVolumeId(), out, () -> ControllerGetVolumeResponse.newBuilder()
                    .setVolume(volume(req.getVolumeId()))
                    .setStatus(ControllerGetVolumeResponse.VolumeStatus.newBuilder()
                            .addAllPublishedNodeIds(attachments.getOrDefault(req.getVolumeId(), Set.of()))
                            .setVolumeCondition(VolumeCondition.newBuilder().setAbnormal(false).setMessage("ok")))
                    .build());
        }

        @Override
        public void controllerPublishVolume(ControllerPublishVolumeRequest req,
                StreamObserver<ControllerPublishVolumeResponse> out) {
            answer("ControllerPublishVolume", req.getVolumeId(), out, () -> {
                volume(req.getVolumeId());
                if (!req.getNodeId().equals(NODE_ID)) {
                    throw error(Status.NOT_FOUND, "node " + req.getNodeId());
                }
                attachments.computeIfAbsent(req.getVolumeId(), k -> ConcurrentHashMap.newKeySet()).add(NODE_ID);
                return ControllerPublishVolumeResponse.newBuilder().putPublishContext("device", "/dev/fake").build();
            });
        }

        @Override
        public void controllerUnpublishVolume(ControllerUnpublishVolumeRequest req,
                StreamObserver<ControllerUnpublishVolumeResponse> out) {
            answer("ControllerUnpublishVolume", req.getVolumeId(), out, () -> {
                attachments.getOrDefault(req.getVolumeId(), Set.of()).remove(req.getNodeId());
                return ControllerUnpublishVolumeResponse.getDefaultInstance();
            });
        }

        @Override
        public void createSnapshot(CreateSnapshotRequest req, StreamObserver<CreateSnapshotResponse> out) {
            String id = Ids.snapshotId(req.getName());
            answer("CreateSnapshot", req.getSourceVolumeId(), out, () -> {
                Volume source = volume(req.getSourceVolumeId());
                Snapshot s = snapshots.computeIfAbsent(id, k -> Snapshot.newBuilder().setSnapshotId(id)
                        .setSourceVolumeId(source.getVolumeId()).setSizeBytes(source.getCapacityBytes())
                        .setCreationTime(Timestamp.newBuilder().setSeconds(1_700_000_000L)).setReadyToUse(true)
                        .build());
                if (records != null) {
                    records.snapshot(id, req.getName(), source.getVolumeId());
                }
                return CreateSnapshotResponse.newBuilder().setSnapshot(s).build();
            });
        }

        @Override
        public void deleteSnapshot(DeleteSnapshotRequest req, StreamObserver<DeleteSnapshotResponse> out) {
            answer("DeleteSnapshot", req.getSnapshotId(), out, () -> {
                snapshots.remove(req.getSnapshotId());
                return DeleteSnapshotResponse.getDefaultInstance();
            });
        }

        @Override
        public void listSnapshots(ListSnapshotsRequest req, StreamObserver<ListSnapshotsResponse> out) {
            answer("ListSnapshots", req.getSnapshotId(), out, () -> {
                NavigableMap<String, Snapshot> matching = new ConcurrentSkipListMap<>();
                snapshots.forEach((id, s) -> {
                    if ((req.getSnapshotId().isEmpty() || id.equals(req.getSnapshotId()))
                            && (req.getSourceVolumeId().isEmpty() || s.getSourceVolumeId().equals(req.getSourceVolumeId()))) {
                        matching.put(id, s);
                    }
                });
                List<String> next = new ArrayList<>();
                var resp = ListSnapshotsResponse.newBuilder();
                page(matching, req.getStartingToken(), next)
                        .forEach(s -> resp.addEntries(ListSnapshotsResponse.Entry.newBuilder().setSnapshot(s)));
                return resp.setNextToken(next.isEmpty() ? "" : next.get(0)).build();
            });
        }
    }

    private final class Node extends NodeGrpc.NodeImplBase {
        @Override
        public void nodeGetCapabilities(NodeGetCapabilitiesRequest req, StreamObserver<NodeGetCapabilitiesResponse> out) {
            answer("NodeGetCapabilities", "", out, () -> {
                var resp = NodeGetCapabilitiesResponse.newBuilder();
                if (attachAndStage) {
                    resp.addCapabilities(NodeServiceCapability.newBuilder().setRpc(NodeServiceCapability.RPC
                            .newBuilder().setType(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME)));
                }
                return resp.build();
            });
        }

        @Override
        public void nodeGetInfo(NodeGetInfoRequest req, StreamObserver<NodeGetInfoResponse> out) {
            answer("NodeGetInfo", "", out, () -> NodeGetInfoResponse.newBuilder().setNodeId(NODE_ID).build());
        }

        @Override
        public void nodeStageVolume(NodeStageVolumeRequest req, StreamObserver<NodeStageVolumeResponse> out) {
            answer("NodeStageVolume", req.getVolumeId(), out, () -> {
                volume(req.getVolumeId());
                // The publish context comes from ControllerPublish; a CO that skips it sends none.
                if (attached(req.getVolumeId()) != req.getPublishContextMap().containsKey("device")) {
                    throw error(Status.INVALID_ARGUMENT, "publish_context: device missing or unexpected");
                }
                if (!Files.isDirectory(Path.of(req.getStagingTargetPath()))) {
                    throw error(Status.FAILED_PRECONDITION, "staging path missing: " + req.getStagingTargetPath());
                }
                if (records != null) {
                    String staged = records.stagingPath(req.getVolumeId());
                    if (staged != null && !staged.equals(req.getStagingTargetPath())) {
                        throw error(Status.FAILED_PRECONDITION, "volume is already staged at " + staged);
                    }
                    records.staged(req.getVolumeId(), req.getStagingTargetPath());
                }
                return NodeStageVolumeResponse.getDefaultInstance();
            });
        }

        @Override
        public void nodeUnstageVolume(NodeUnstageVolumeRequest req, StreamObserver<NodeUnstageVolumeResponse> out) {
            answer("NodeUnstageVolume", req.getVolumeId(), out, () -> {
                if (records != null && req.getStagingTargetPath().equals(records.stagingPath(req.getVolumeId()))) {
                    records.unstaged(req.getVolumeId());
                }
                return NodeUnstageVolumeResponse.getDefaultInstance();
            });
        }

        @Override
        public void nodePublishVolume(NodePublishVolumeRequest req, StreamObserver<NodePublishVolumeResponse> out) {
            answer("NodePublishVolume", req.getVolumeId(), out, () -> {
                volume(req.getVolumeId());
                if (req.getStagingTargetPath().isEmpty() == attachAndStage) {
                    throw error(Status.FAILED_PRECONDITION, "staging_target_path: wrong for this plugin: \""
                            + req.getStagingTargetPath() + "\"");
                }
                if (attached(req.getVolumeId()) != req.getPublishContextMap().containsKey("device")) {
                    throw error(Status.INVALID_ARGUMENT, "publish_context: wrong for this plugin");
                }
                Path target = Path.of(req.getTargetPath());
                // Like a real driver: the CO guarantees the parent; the target is ours to create.
                if (!Files.isDirectory(target.getParent())) {
                    throw error(Status.FAILED_PRECONDITION, "parent of target missing: " + target);
                }
                try {
                    Files.createDirectories(target);
                } catch (IOException e) {
                    throw error(Status.INTERNAL, e.toString());
                }
                if (records != null) {
                    records.published(req.getVolumeId(), req.getTargetPath());
                }
                return NodePublishVolumeResponse.getDefaultInstance();
            });
        }

        @Override
        public void nodeUnpublishVolume(NodeUnpublishVolumeRequest req, StreamObserver<NodeUnpublishVolumeResponse> out) {
            answer("NodeUnpublishVolume", req.getVolumeId(), out, () -> {
                try {
                    Files.deleteIfExists(Path.of(req.getTargetPath()));
                } catch (IOException e) {
                    throw error(Status.INTERNAL, e.toString());
                }
                if (records != null) {
                    records.unpublished(req.getVolumeId(), req.getTargetPath());
                }
                return NodeUnpublishVolumeResponse.getDefaultInstance();
            });
        }
    }
}
