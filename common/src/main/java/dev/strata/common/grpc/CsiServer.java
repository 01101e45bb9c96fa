package dev.strata.common.grpc;

import dev.strata.common.metrics.CallMetrics;
import dev.strata.common.metrics.StrataMetrics;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gRPC server on a Unix domain socket (Netty epoll). A stale socket left by a killed process is
 * removed at start; a live one (another server answering) is not. {@link #stop()} drains in-flight
 * calls before it closes the socket. Calls run on an executor of the server's own, so that stop can
 * let their threads finish their last writes before it ends the event loop those writes go through.
 */
public final class CsiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CsiServer.class);
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    /** The largest request read: 64 times the largest map CSI allows in a request. */
    static final int MAX_REQUEST_BYTES = 256 << 10;
    /** Calls one client may have open at once; further ones wait on the client's side (HTTP/2 streams). */
    static final int CALLS_PER_CONNECTION = 16;
    /** Calls in flight over all clients; further ones are refused with UNAVAILABLE. */
    static final int CALLS_IN_FLIGHT = 64;

    private final Endpoint endpoint;
    private final Server server;
    private final EventLoopGroup group;
    private final ExecutorService calls;
    private final Duration drainTimeout;

    private CsiServer(Endpoint endpoint, Server server, EventLoopGroup group, ExecutorService calls,
            Duration drainTimeout) {
        this.endpoint = endpoint;
        this.server = server;
        this.group = group;
        this.calls = calls;
        this.drainTimeout = drainTimeout;
    }

    public static CsiServer start(Endpoint endpoint, List<BindableService> services, Duration drainTimeout)
            throws IOException {
        return start(endpoint, services, drainTimeout, null);
    }

    /** As above, with every call counted and timed in {@code metrics} (null: not measured). */
    public static CsiServer start(Endpoint endpoint, List<BindableService> services, Duration drainTimeout,
            StrataMetrics metrics) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("Netty epoll transport unavailable: " + Epoll.unavailabilityCause());
        }
        Path socket = endpoint.socketPath();
        Files.createDirectories(socket.getParent());
        removeStaleSocket(socket);
        EventLoopGroup group = new EpollEventLoopGroup(1);
        // Like gRPC's default executor (cached daemon threads), but ours to shut down in order.
        ExecutorService calls = Executors.newCachedThreadPool(new DefaultThreadFactory("csi-call", true));
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .executor(calls)
                // CSI's largest fields are a few 4 KiB maps: a request this big is not a CSI request,
                // and many of them at once must not fill the heap.
                .maxInboundMessageSize(MAX_REQUEST_BYTES)
                .maxConcurrentCallsPerConnection(CALLS_PER_CONNECTION);
        InFlightLimit limit = new InFlightLimit(CALLS_IN_FLIGHT);
        CallMetrics measured = metrics == null ? null : new CallMetrics(metrics.registry());
        for (BindableService service : services) {
            builder.addService(wire(service.bindService(), limit, measured));
        }
        Server server;
        try {
            server = builder.build().start();
            restrict(endpoint);
        } catch (IOException | RuntimeException e) {
            calls.shutdown();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        LOG.info("serving {} on {}", services.stream().map(s -> s.bindService().getServiceDescriptor().getName())
                .toList(), endpoint);
        return new CsiServer(endpoint, server, group, calls, drainTimeout);
    }

    /**
     * Whoever may connect may create, delete and mount volumes as root: the socket is its owner's
     * alone (0600), or its owner's and one group's (0660), whatever the umask was. (The driver sets
     * a umask of 077 at start, so the socket is never more open than that, even for an instant.)
     */
    private static void restrict(Endpoint endpoint) throws IOException {
        Path socket = endpoint.socketPath();
        if (endpoint.group() != null) {
            var groups = socket.getFileSystem().getUserPrincipalLookupService();
            Files.getFileAttributeView(socket, java.nio.file.attribute.PosixFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS).setGroup(groups.lookupPrincipalByGroupName(endpoint.group()));
        }
        Files.setPosixFilePermissions(socket, java.nio.file.attribute.PosixFilePermissions.fromString(
                endpoint.group() != null ? "rw-rw----" : "rw-------"));
    }

    /**
     * A service with Strata's interceptors, outermost first: the bound on calls in flight, requests
     * that do not parse refused as INVALID_ARGUMENT, then (on parsed messages) the call log, which
     * sees the status the error mapping chose. Outside them all, the call metrics, which so count the
     * calls the limit refuses too. (ServerInterceptors.intercept runs the last one given first.)
     */
    private static ServerServiceDefinition wire(ServerServiceDefinition service, InFlightLimit limit,
            CallMetrics metrics) {
        ServerServiceDefinition typed = ServerInterceptors.intercept(service, new ErrorMappingInterceptor(),
                new CallLoggingInterceptor());
        ServerServiceDefinition limited = ServerInterceptors.intercept(ServerInterceptors.useInputStreamMessages(typed),
                new RequestParsing(), limit);
        return metrics == null ? limited : ServerInterceptors.intercept(limited, metrics);
    }

    /** Deletes a socket file nobody answers on; refuses to touch anything else. */
    static void removeStaleSocket(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException("endpoint " + socket + " exists and is not a socket; refusing to remove it");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new IOException("endpoint " + socket + " is in use by a running server");
        } catch (java.net.ConnectException stale) {
            LOG.info("removing stale socket {}", socket);
            Files.delete(socket);
        }
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Stops accepting calls, lets in-flight ones finish (up to the drain timeout), then closes. */
    public void stop() {
        server.shutdown();
        try {
            if (!server.awaitTermination(drainTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("calls still running after {}; cancelling them", drainTimeout);
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            // A call's thread may still be closing its stream after the server counts it done: the
            // event loop must outlive those last writes (else Netty logs each as rejected).
            calls.shutdown();
            if (!calls.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("call threads still running 5 s after the server stopped");
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            calls.shutdownNow();
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        try {
            Files.deleteIfExists(endpoint.socketPath());
        } catch (IOException e) {
            LOG.warn("could not remove socket {}: {}", endpoint.socketPath(), e.getMessage());
        }
        LOG.info("server on {} stopped", endpoint);
    }

    @Override
    public void close() {
        stop();
    }
}
