package dev.strata.common.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.strata.common.ErrorMapper;
import dev.strata.common.grpc.CsiServer;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.identity.IdentityService;
import dev.strata.csi.v1.GetPluginInfoRequest;
import dev.strata.csi.v1.IdentityGrpc;
import dev.strata.csi.v1.NodeGetInfoRequest;
import dev.strata.csi.v1.NodeGrpc;
import dev.strata.csi.v1.PluginCapability;
import dev.strata.csi.v1.ProbeRequest;
import dev.strata.testing.CapturedLog;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Calls through a real server on a Unix socket, counted by method and code. */
@Timeout(60)
class CallMetricsTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CapturedLog errors = new CapturedLog(ErrorMapper.class);

    @Test
    void countsAndTimesEveryCallByMethodAndCode() throws Exception {
        StrataMetrics metrics = new StrataMetrics("standalone");
        IdentityService identity = new IdentityService(
                List.of(IdentityService.service(PluginCapability.Service.Type.CONTROLLER_SERVICE)), () -> true);
        // A Node service whose NodeGetInfo fails: the code the error mapping chose is the one counted.
        NodeGrpc.NodeImplBase node = new NodeGrpc.NodeImplBase() {
            @Override
            public void nodeGetInfo(NodeGetInfoRequest request, StreamObserver<dev.strata.csi.v1.NodeGetInfoResponse> out) {
                throw dev.strata.common.CsiException.notFound("no such node");
            }
        };
        Path socket = dir.resolve("csi.sock");
        CsiServer server = CsiServer.start(Endpoint.parse("unix://" + socket), List.of(identity, node),
                Duration.ofSeconds(5), metrics);
        EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
        try {
            IdentityGrpc.IdentityBlockingStub id = IdentityGrpc.newBlockingStub(channel);
            for (int i = 0; i < 3; i++) {
                id.probe(ProbeRequest.getDefaultInstance());
            }
            id.getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> NodeGrpc.newBlockingStub(channel).nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()));
            assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            server.stop();
        }
        assertEquals(3, count(metrics, "Identity/Probe", "OK"));
        assertEquals(1, count(metrics, "Identity/GetPluginInfo", "OK"));
        assertEquals(1, count(metrics, "Node/NodeGetInfo", "NOT_FOUND"));
        assertEquals(0, count(metrics, "Node/NodeGetInfo", "OK"));
    }

    private static long count(StrataMetrics metrics, String method, String code) {
        HistogramSnapshot h = (HistogramSnapshot) metrics.registry().scrape().stream()
                .filter(s -> s.getMetadata().getName().equals("strata_csi_request_duration_seconds"))
                .findFirst().orElseThrow();
        return h.getDataPoints().stream()
                .filter(p -> p.getLabels().equals(Labels.of("code", code, "method", method)))
                .mapToLong(HistogramSnapshot.HistogramDataPointSnapshot::getCount).sum();
    }

    @Test
    void methodNamesDropThePackage() {
        assertEquals("Controller/CreateVolume", CallMetrics.method("csi.v1.Controller/CreateVolume"));
        assertEquals("Identity/Probe", CallMetrics.method("csi.v1.Identity/Probe"));
    }
}
