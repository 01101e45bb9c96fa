package dev.strata.common.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.strata.common.BuildInfo;
import dev.strata.common.CsiException;
import dev.strata.common.identity.IdentityService;
import dev.strata.csi.v1.GetPluginCapabilitiesRequest;
import dev.strata.csi.v1.GetPluginInfoRequest;
import dev.strata.csi.v1.GetPluginInfoResponse;
import dev.strata.csi.v1.IdentityGrpc;
import dev.strata.csi.v1.NodeGetInfoRequest;
import dev.strata.csi.v1.NodeGetInfoResponse;
import dev.strata.csi.v1.NodeGrpc;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeResponse;
import dev.strata.csi.v1.PluginCapability;
import dev.strata.csi.v1.ProbeRequest;
import dev.strata.csi.v1.ProbeResponse;
import dev.strata.common.ErrorMapper;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.testing.CapturedLog;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

@Timeout(120) // guards against a hang; nothing here asserts on timing
class CsiServerTest {
    @TempDir
    Path dir;

    /** Failures that are the subject of a test are logged as errors: kept for the assertions, off the console. */
    @RegisterExtension
    final CapturedLog errors = new CapturedLog(ErrorMapper.class);

    private final List<CsiServer> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private EventLoopGroup clientGroup;

    @AfterEach
    void tearDown() throws InterruptedException {
        for (ManagedChannel ch : channels) {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (clientGroup != null) {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        for (CsiServer s : servers) {
            s.stop();
        }
    }

    private Path socket() {
        return dir.resolve("csi.sock");
    }

    private CsiServer start(Path socket, BindableService... services) throws IOException {
        CsiServer server = CsiServer.start(Endpoint.parse("unix://" + socket), List.of(services), Duration.ofSeconds(10));
        servers.add(server);
        return server;
    }

    private ManagedChannel channel(Path socket) {
        if (clientGroup == null) {
            clientGroup = new EpollEventLoopGroup(1);
        }
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(clientGroup)
                .usePlaintext()
                .build();
        channels.add(ch);
        return ch;
    }

    private static IdentityService identity(AtomicBoolean ready) {
        return new IdentityService(List.of(IdentityService.service(PluginCapability.Service.Type.CONTROLLER_SERVICE)),
                ready::get);
    }

    private static boolean isSocket(Path p) throws IOException {
        int mode = (Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0140000;
    }

    // ---- serving ------------------------------------------------------------------------------

    @Test
    void servesIdentityOnAUnixSocket() throws IOException {
        AtomicBoolean ready = new AtomicBoolean(false);
        start(socket(), identity(ready));
        assertTrue(isSocket(socket()));
        IdentityGrpc.IdentityBlockingStub stub = IdentityGrpc.newBlockingStub(channel(socket()));

        GetPluginInfoResponse info = stub.getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
        assertEquals(BuildInfo.DRIVER_NAME, info.getName());
        assertEquals("strata.csi.dev", info.getName());
        assertEquals(BuildInfo.VERSION, info.getVendorVersion());
        assertFalse(info.getVendorVersion().isEmpty());

        ProbeResponse notReady = stub.probe(ProbeRequest.getDefaultInstance());
        assertTrue(notReady.hasReady());
        assertFalse(notReady.getReady().getValue());
        ready.set(true);
        assertTrue(stub.probe(ProbeRequest.getDefaultInstance()).getReady().getValue());

        assertEquals(PluginCapability.Service.Type.CONTROLLER_SERVICE, stub.getPluginCapabilities(
                GetPluginCapabilitiesRequest.getDefaultInstance()).getCapabilities(0).getService().getType());
    }

    @Test
    void createsTheSocketDirectory() throws IOException {
        Path nested = dir.resolve("plugins/strata/csi.sock");
        start(nested, identity(new AtomicBoolean(true)));
        assertTrue(isSocket(nested));
        assertTrue(IdentityGrpc.newBlockingStub(channel(nested)).probe(ProbeRequest.getDefaultInstance())
                .getReady().getValue());
    }

    @Test
    void unimplementedServiceIsUnimplemented() throws IOException {
        start(socket(), identity(new AtomicBoolean(true)));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> NodeGrpc.newBlockingStub(channel(socket())).nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    }

    // ---- the socket file ------------------------------------------------------------------------

    @Test
    void staleSocketIsRemovedAtStart() throws IOException {
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket()));
        }
        assertTrue(Files.exists(socket()), "closing a UDS server leaves its file behind");
        assertTrue(isSocket(socket()));
        start(socket(), identity(new AtomicBoolean(true)));
        assertTrue(IdentityGrpc.newBlockingStub(channel(socket())).probe(ProbeRequest.getDefaultInstance())
                .getReady().getValue());
    }

    @Test
    void liveSocketMakesStartFail() throws IOException {
        start(socket(), identity(new AtomicBoolean(true)));
        IOException e = assertThrows(IOException.class, () -> start(socket(), identity(new AtomicBoolean(false))));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
        // the first server is untouched and still answers on its socket
        assertTrue(IdentityGrpc.newBlockingStub(channel(socket())).probe(ProbeRequest.getDefaultInstance())
                .getReady().getValue());
    }

    @Test
    void liveForeignSocketMakesStartFail() throws IOException {
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(socket()));
            assertThrows(IOException.class, () -> start(socket(), identity(new AtomicBoolean(true))));
            assertTrue(isSocket(socket()));
        }
    }

    @Test
    void regularFileAtTheSocketPathIsRefusedAndKept() throws IOException {
        Files.writeString(socket(), "precious");
        IOException e = assertThrows(IOException.class, () -> start(socket(), identity(new AtomicBoolean(true))));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("precious", Files.readString(socket()));
    }

    @Test
    void directoryAtTheSocketPathIsRefusedAndKept() throws IOException {
        Files.createDirectory(socket());
        assertThrows(IOException.class, () -> start(socket(), identity(new AtomicBoolean(true))));
        assertTrue(Files.isDirectory(socket()));
    }

    @Test
    void symlinkAtTheSocketPathIsRefusedAndKept() throws IOException {
        Path target = Files.writeString(dir.resolve("target"), "x");
        Files.createSymbolicLink(socket(), target);
        assertThrows(IOException.class, () -> start(socket(), identity(new AtomicBoolean(true))));
        assertTrue(Files.isSymbolicLink(socket()));
        assertEquals("x", Files.readString(target));
    }

    @Test
    void socketPathTooLongForTheKernelFailsStart() {
        Path tooLong = dir.resolve("s".repeat(120) + ".sock");
        IOException e = assertThrows(IOException.class, () -> start(tooLong, identity(new AtomicBoolean(true))));
        assertTrue(e.getMessage().contains("bind"), e.getMessage());
    }

    /*
     * Bug: when the server fails to bind after its EventLoopGroup was made (here: a socket path longer
     * than sun_path allows), start() throws without shutting the group down, so a non-daemon
     * epollEventLoopGroup thread outlives the failed start. The driver exits through System.exit, so
     * only embedders and tests notice. Enable once start() shuts the group down on failure.
     */
    @Test
    void failedStartLeavesNoEventLoopThreadBehind() throws Exception {
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        Path tooLong = dir.resolve("s".repeat(120) + ".sock");
        assertThrows(IOException.class, () -> start(tooLong, identity(new AtomicBoolean(true))));
        List<Thread> leaked = List.of();
        for (int i = 0; i < 100; i++) { // waits up to 10 s for a graceful shutdown to finish
            leaked = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("epollEventLoopGroup"))
                    .toList();
            if (leaked.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(List.of(), leaked.stream().map(Thread::getName).toList());
    }

    @Test
    void stopRemovesTheSocket() throws IOException {
        CsiServer server = start(socket(), identity(new AtomicBoolean(true)));
        assertTrue(Files.exists(socket()));
        server.stop();
        assertFalse(Files.exists(socket(), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        // and a new server can take the endpoint at once
        start(socket(), identity(new AtomicBoolean(true)));
        assertTrue(IdentityGrpc.newBlockingStub(channel(socket())).probe(ProbeRequest.getDefaultInstance())
                .getReady().getValue());
    }

    // ---- error mapping ------------------------------------------------------------------------

    /** An Identity service whose Probe throws what it is given. */
    private static final class ThrowingIdentity extends IdentityGrpc.IdentityImplBase {
        private final RuntimeException failure;

        ThrowingIdentity(RuntimeException failure) {
            this.failure = failure;
        }

        @Override
        public void probe(ProbeRequest request, StreamObserver<ProbeResponse> response) {
            throw failure;
        }

        @Override
        public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> response) {
            response.onNext(GetPluginInfoResponse.newBuilder().setName(BuildInfo.DRIVER_NAME).build());
            response.onCompleted();
        }
    }

    @Test
    void csiExceptionInAServiceBecomesItsStatus() throws IOException {
        start(socket(), new ThrowingIdentity(CsiException.notFound("x")));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> IdentityGrpc.newBlockingStub(channel(socket())).probe(ProbeRequest.getDefaultInstance()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals("x", e.getStatus().getDescription());
    }

    @Test
    void unexpectedExceptionBecomesInternal() throws IOException {
        start(socket(), new ThrowingIdentity(new IllegalStateException("state is broken")));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> IdentityGrpc.newBlockingStub(channel(socket())).probe(ProbeRequest.getDefaultInstance()));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("state is broken"), e.getStatus().getDescription());
        assertLoggedOnce("state is broken");
    }

    /** The failure was logged, once, as an internal error with its stack. */
    private void assertLoggedOnce(String message) {
        List<ILoggingEvent> logged = errors.at(Level.ERROR);
        assertEquals(1, logged.size(), logged::toString);
        assertEquals("internal error", logged.get(0).getFormattedMessage());
        assertEquals(message, logged.get(0).getThrowableProxy().getMessage());
    }

    @Test
    void illegalArgumentBecomesInvalidArgument() throws IOException {
        start(socket(), new ThrowingIdentity(new IllegalArgumentException("nope")));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> IdentityGrpc.newBlockingStub(channel(socket())).probe(ProbeRequest.getDefaultInstance()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("nope", e.getStatus().getDescription());
    }

    @Test
    void serverKeepsServingAfterAFailedCall() throws IOException {
        start(socket(), new ThrowingIdentity(new IllegalStateException("boom")));
        IdentityGrpc.IdentityBlockingStub stub = IdentityGrpc.newBlockingStub(channel(socket()));
        assertThrows(StatusRuntimeException.class, () -> stub.probe(ProbeRequest.getDefaultInstance()));
        assertEquals(BuildInfo.DRIVER_NAME, stub.getPluginInfo(GetPluginInfoRequest.getDefaultInstance()).getName());
        assertLoggedOnce("boom");
    }

    // ---- call logging -------------------------------------------------------------------------

    /** A Node service that refuses every stage request. */
    private static final class RefusingNode extends NodeGrpc.NodeImplBase {
        @Override
        public void nodeStageVolume(NodeStageVolumeRequest request, StreamObserver<NodeStageVolumeResponse> response) {
            throw CsiException.invalidArgument("volume_capability", "required");
        }

        @Override
        public void nodeGetInfo(NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> response) {
            response.onNext(NodeGetInfoResponse.newBuilder().setNodeId("node-1").build());
            response.onCompleted();
        }
    }

    private static String everything(ILoggingEvent e) {
        StringBuilder out = new StringBuilder().append(e.getFormattedMessage()).append('|').append(e.getMessage());
        if (e.getArgumentArray() != null) {
            out.append('|').append(Arrays.deepToString(e.getArgumentArray()));
        }
        for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
            out.append('|').append(t.getMessage());
        }
        e.getMDCPropertyMap().forEach((k, v) -> out.append('|').append(k).append('=').append(v));
        return out.toString();
    }

    @Test
    void callsAreLoggedOnceWithMethodAndStatusAndNeverTheSecrets() throws IOException {
        Logger rpc = (Logger) LoggerFactory.getLogger("dev.strata.rpc");
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level before = rpc.getLevel();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        rpc.setLevel(Level.DEBUG);
        try {
            start(socket(), new RefusingNode());
            NodeGrpc.NodeBlockingStub stub = NodeGrpc.newBlockingStub(channel(socket()));
            NodeStageVolumeRequest request = NodeStageVolumeRequest.newBuilder()
                    .setVolumeId("vol-1")
                    .setStagingTargetPath("/var/lib/kubelet/staging/vol-1")
                    .putSecrets("password", "hunter2")
                    .putVolumeContext("ctx", "visible-context")
                    .setVolumeCapability(VolumeCapability.newBuilder()
                            .setMount(VolumeCapability.MountVolume.getDefaultInstance()))
                    .build();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.nodeStageVolume(request));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals("node-1", stub.nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId());

            List<ILoggingEvent> events;
            synchronized (appender) {
                events = List.copyOf(appender.list);
            }
            List<ILoggingEvent> rpcEvents = events.stream().filter(ev -> ev.getLoggerName().equals("dev.strata.rpc"))
                    .toList();

            List<ILoggingEvent> stageInfo = rpcEvents.stream().filter(ev -> ev.getLevel() == Level.INFO)
                    .filter(ev -> ev.getFormattedMessage().startsWith("Node/NodeStageVolume ")).toList();
            assertEquals(1, stageInfo.size(), () -> "one line per call: " + rpcEvents);
            String line = stageInfo.get(0).getFormattedMessage();
            assertTrue(line.contains("volume_id=vol-1"), line);
            assertTrue(line.contains("status=INVALID_ARGUMENT"), line);
            assertTrue(line.contains("volume_capability: required"), line);

            List<ILoggingEvent> infoInfo = rpcEvents.stream().filter(ev -> ev.getLevel() == Level.INFO)
                    .filter(ev -> ev.getFormattedMessage().startsWith("Node/NodeGetInfo ")).toList();
            assertEquals(1, infoInfo.size(), () -> rpcEvents.toString());
            assertTrue(infoInfo.get(0).getFormattedMessage().contains("status=OK"));

            // at DEBUG the request follows, redacted, with its other fields intact
            List<ILoggingEvent> debug = rpcEvents.stream().filter(ev -> ev.getLevel() == Level.DEBUG)
                    .filter(ev -> ev.getFormattedMessage().startsWith("Node/NodeStageVolume ")).toList();
            assertEquals(1, debug.size(), () -> rpcEvents.toString());
            assertTrue(debug.get(0).getFormattedMessage().contains("visible-context"), debug.get(0).getFormattedMessage());
            assertTrue(debug.get(0).getFormattedMessage().contains("/var/lib/kubelet/staging/vol-1"));

            assertFalse(events.isEmpty());
            for (ILoggingEvent ev : events) {
                assertFalse(everything(ev).contains("hunter2"), () -> "secret logged: " + everything(ev));
            }
        } finally {
            root.detachAppender(appender);
            rpc.setLevel(before);
        }
    }

    // ---- drain ----------------------------------------------------------------------------------

    /** Probe takes half a second; the latch says it has started. */
    private static final class SlowIdentity extends IdentityGrpc.IdentityImplBase {
        final CountDownLatch started = new CountDownLatch(1);

        @Override
        public void probe(ProbeRequest request, StreamObserver<ProbeResponse> response) {
            started.countDown();
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while draining", e);
            }
            response.onNext(ProbeResponse.newBuilder().setReady(com.google.protobuf.BoolValue.of(true)).build());
            response.onCompleted();
        }
    }

    @Test
    void stopLetsAnInFlightCallFinish() throws Exception {
        SlowIdentity slow = new SlowIdentity();
        CsiServer server = start(socket(), slow);
        var future = IdentityGrpc.newFutureStub(channel(socket())).probe(ProbeRequest.getDefaultInstance());
        assertTrue(slow.started.await(30, TimeUnit.SECONDS), "the call never reached the server");
        server.stop();
        ProbeResponse response = future.get(30, TimeUnit.SECONDS);
        assertTrue(response.getReady().getValue());
        assertFalse(Files.exists(socket(), java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void stopIsSafeToRepeat() throws IOException {
        CsiServer server = start(socket(), identity(new AtomicBoolean(true)));
        server.stop();
        server.close();
        assertFalse(Files.exists(socket()));
        assertTrue(Stream.of(dir.toFile().list()).noneMatch(n -> n.equals("csi.sock")));
    }
}
