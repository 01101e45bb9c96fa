package dev.strata.cli;

import dev.strata.common.grpc.Endpoint;
import dev.strata.common.identity.IdentityService;
import dev.strata.csi.v1.ControllerGetCapabilitiesRequest;
import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.ControllerServiceCapability;
import dev.strata.csi.v1.GetPluginInfoRequest;
import dev.strata.csi.v1.GetPluginInfoResponse;
import dev.strata.csi.v1.IdentityGrpc;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.ListVolumesRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.NodeGetCapabilitiesRequest;
import dev.strata.csi.v1.NodeGetInfoRequest;
import dev.strata.csi.v1.NodeGrpc;
import dev.strata.csi.v1.NodeServiceCapability;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One gRPC channel to a CSI socket, its stubs (each call gets its own deadline) and the plugin's
 * capabilities, asked once. Safe to share between threads.
 */
final class CsiClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final EventLoopGroup group;
    private final Path socket;
    private final long timeoutMillis;
    private volatile GetPluginInfoResponse pluginInfo;
    private volatile Set<ControllerServiceCapability.RPC.Type> controllerCaps;
    private volatile Set<NodeServiceCapability.RPC.Type> nodeCaps;

    private CsiClient(ManagedChannel channel, EventLoopGroup group, Path socket, Duration timeout) {
        this.channel = channel;
        this.group = group;
        this.socket = socket;
        this.timeoutMillis = timeout.toMillis();
    }

    @SuppressWarnings("deprecation") // EpollEventLoopGroup: the same transport setup as common's CsiServer
    static CsiClient connect(Endpoint endpoint, Duration timeout) {
        Path socket = endpoint.socketPath();
        // Checked here because gRPC would only say "UNAVAILABLE: io exception" at the first call.
        if (!Files.exists(socket)) {
            throw new CliException("no CSI socket at " + socket
                    + " (is the driver running? give --endpoint or set CSI_ENDPOINT)");
        }
        if (!Epoll.isAvailable()) {
            throw new CliException("Netty epoll transport unavailable: " + Epoll.unavailabilityCause());
        }
        // Daemon threads: a command that fails half-way must never keep the JVM alive.
        EventLoopGroup group = new EpollEventLoopGroup(1, new DefaultThreadFactory("stratactl-io", true));
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                .usePlaintext()
                .overrideAuthority("localhost")
                .build();
        return new CsiClient(channel, group, socket, timeout);
    }

    IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** GetPluginInfo, asked once. */
    GetPluginInfoResponse pluginInfo() {
        if (pluginInfo == null) {
            pluginInfo = identity().getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
        }
        return pluginInfo;
    }

    String driverName() {
        return pluginInfo().getName();
    }

    /** Where a Strata driver keeps its records, as its GetPluginInfo manifest says; empty for other drivers. */
    Optional<Path> dataDir() {
        String dir = pluginInfo().getManifestMap().get(IdentityService.DATA_DIR);
        return dir == null || dir.isBlank() ? Optional.empty() : Optional.of(Path.of(dir));
    }

    /**
     * The ID of the process that serves the socket, from the kernel (SO_PEERCRED of a connection of
     * our own): names the driver beyond what it says of itself. Empty where the kernel does not say.
     */
    OptionalLong serverPid() throws InterruptedException {
        Channel ch = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(new DomainSocketAddress(socket.toString())).sync().channel();
        try {
            int pid = ((EpollDomainSocketChannel) ch).peerCredentials().pid();
            return pid > 0 ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (java.io.IOException e) {
            return OptionalLong.empty();
        } finally {
            ch.close().sync();
        }
    }

    String nodeId() {
        return node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId();
    }

    boolean hasController(ControllerServiceCapability.RPC.Type type) {
        return controllerCapabilities().contains(type);
    }

    boolean hasNode(NodeServiceCapability.RPC.Type type) {
        return nodeCapabilities().contains(type);
    }

    /** The controller's RPC capabilities; none when the socket serves no Controller service. */
    Set<ControllerServiceCapability.RPC.Type> controllerCapabilities() {
        if (controllerCaps == null) {
            Set<ControllerServiceCapability.RPC.Type> caps = EnumSet.noneOf(ControllerServiceCapability.RPC.Type.class);
            try {
                controller().controllerGetCapabilities(ControllerGetCapabilitiesRequest.getDefaultInstance())
                        .getCapabilitiesList().forEach(c -> caps.add(c.getRpc().getType()));
            } catch (StatusRuntimeException e) {
                rethrowUnlessUnimplemented(e);
            }
            controllerCaps = caps;
        }
        return controllerCaps;
    }

    /** The node's RPC capabilities; none when the socket serves no Node service (a controller-only pod). */
    Set<NodeServiceCapability.RPC.Type> nodeCapabilities() {
        if (nodeCaps == null) {
            Set<NodeServiceCapability.RPC.Type> caps = EnumSet.noneOf(NodeServiceCapability.RPC.Type.class);
            try {
                node().nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
                        .getCapabilitiesList().forEach(c -> caps.add(c.getRpc().getType()));
            } catch (StatusRuntimeException e) {
                rethrowUnlessUnimplemented(e);
            }
            nodeCaps = caps;
        }
        return nodeCaps;
    }

    private static void rethrowUnlessUnimplemented(StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
            throw e;
        }
    }

    /** Every volume, following next_token to the end. */
    List<ListVolumesResponse.Entry> listVolumes() {
        List<ListVolumesResponse.Entry> all = new ArrayList<>();
        Set<String> seenTokens = new HashSet<>();
        String token = "";
        do {
            ListVolumesResponse page = controller().listVolumes(
                    ListVolumesRequest.newBuilder().setStartingToken(token).build());
            all.addAll(page.getEntriesList());
            token = nextToken(page.getNextToken(), seenTokens);
        } while (!token.isEmpty());
        return all;
    }

    /** Every snapshot matching the filters (empty string: no filter), following next_token to the end. */
    List<ListSnapshotsResponse.Entry> listSnapshots(String snapshotId, String sourceVolumeId) {
        List<ListSnapshotsResponse.Entry> all = new ArrayList<>();
        Set<String> seenTokens = new HashSet<>();
        String token = "";
        do {
            ListSnapshotsResponse page = controller().listSnapshots(ListSnapshotsRequest.newBuilder()
                    .setSnapshotId(snapshotId).setSourceVolumeId(sourceVolumeId).setStartingToken(token).build());
            all.addAll(page.getEntriesList());
            token = nextToken(page.getNextToken(), seenTokens);
        } while (!token.isEmpty());
        return all;
    }

    /** A plugin that hands out the same token twice would otherwise keep us listing forever. */
    private static String nextToken(String token, Set<String> seen) {
        if (!token.isEmpty() && !seen.add(token)) {
            throw new CliException("plugin returned next_token " + token + " twice; stopping the listing");
        }
        return token;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }
}
