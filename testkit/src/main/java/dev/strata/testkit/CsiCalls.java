package dev.strata.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.GroupControllerGrpc;
import dev.strata.csi.v1.IdentityGrpc;
import dev.strata.csi.v1.ListSnapshotsRequest;
import dev.strata.csi.v1.ListSnapshotsResponse;
import dev.strata.csi.v1.ListVolumesRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.NodeGrpc;
import dev.strata.csi.v1.Snapshot;
import dev.strata.csi.v1.Volume;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * What every test does with a running driver: stubs for its four services, the paths of its test
 * directory (socket, data, kubelet-like staging and target paths), and the calls most tests make.
 * As a JUnit extension it gives each test a fresh directory under /var/tmp, starts the driver there,
 * and after the test stops it and fails the test if anything is still mounted under the directory
 * (unmounting it first, so that the next test starts clean).
 */
public abstract class CsiCalls implements BeforeEachCallback, AfterEachCallback {
    private static final long DEADLINE_SECONDS = 30;

    private Path root;

    /** Starts the driver on {@link #root()} and connects to it. */
    public abstract void start() throws IOException;

    /** Disconnects and stops the driver, if it runs. */
    public abstract void stop() throws IOException;

    /** The connection to the driver's socket that the stubs use. */
    public abstract ManagedChannel channel();

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        root = Files.createTempDirectory(Path.of("/var/tmp"), "strata-test-");
        assertEquals(root, root.toRealPath(), "the test directory must not involve symbolic links");
        start();
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        if (root == null) {
            return;
        }
        stop();
        List<Path> leaked = MountInfo.unmountAllUnder(root);
        deleteTree(root);
        if (!leaked.isEmpty()) {
            fail("the test left mounts behind (now lazily unmounted): " + leaked);
        }
    }

    /** The test's own directory: socket, data dir, staging and target paths all live in it. */
    public Path root() {
        return root;
    }

    // ---- stubs (a fresh deadline per call site) -------------------------------------------------

    public IdentityGrpc.IdentityBlockingStub identity() {
        return IdentityGrpc.newBlockingStub(channel()).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    public ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(channel()).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    public GroupControllerGrpc.GroupControllerBlockingStub groupController() {
        return GroupControllerGrpc.newBlockingStub(channel()).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    public NodeGrpc.NodeBlockingStub node() {
        return NodeGrpc.newBlockingStub(channel()).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    // ---- paths ------------------------------------------------------------------------------------

    public Path socket() {
        return root().resolve("csi.sock");
    }

    public Path dataDir() {
        return root().resolve("data");
    }

    public Path volumesDir() {
        return dataDir().resolve("engines/dir/volumes");
    }

    public Path snapshotsDir() {
        return dataDir().resolve("engines/dir/snapshots");
    }

    public Path trashDir() {
        return dataDir().resolve("engines/dir/trash");
    }

    public Path recordsDir(String kind) {
        return dataDir().resolve("records").resolve(kind);
    }

    /** Where a {@code dir} volume's data is. */
    public Path volumeDir(String volumeId) {
        return volumeDir(volumeId, "dir");
    }

    /** Where a {@code dir} or {@code shared} volume's data is (the two keep volumes alike). */
    public Path volumeDir(String volumeId, String engine) {
        return dirVolumeData(dataDir(), engine, volumeId);
    }

    /**
     * Where a {@code dir} or {@code shared} volume's data is in a node's data directory: its tree,
     * {@code volumes/ID}, or the directory {@code data} in it for a volume held to its size (one with
     * {@code sized/ID}: its tree is the root of its own filesystem or its project).
     */
    public static Path dirVolumeData(Path dataDir, String engine, String volumeId) {
        Path engineDir = dataDir.resolve("engines").resolve(engine);
        Path tree = engineDir.resolve("volumes").resolve(volumeId);
        return Files.isDirectory(engineDir.resolve("sized").resolve(volumeId)) ? tree.resolve("data") : tree;
    }

    public Path snapshotDir(String snapshotId) {
        return snapshotsDir().resolve(snapshotId);
    }

    /**
     * The mounts kubelet would see: stages and publishes. The driver's own mounts in its data
     * directory (a sized volume's filesystem) are not among them.
     */
    public List<Path> kubeletMounts() {
        return MountInfo.under(root().resolve("kubelet"));
    }

    /** Where kubelet would stage a volume. */
    public Path staging(String volumeId) {
        return root().resolve("kubelet/staging").resolve(volumeId);
    }

    /** Where kubelet would publish a volume for a pod. */
    public Path target(String pod) {
        return root().resolve("kubelet/pods").resolve(pod).resolve("mount");
    }

    /** The names in a directory, sorted; empty when it does not exist. */
    public static List<String> names(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The regular files anywhere below a directory, sorted; empty when it does not exist. */
    public static List<Path> files(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).sorted().toList();
        }
    }

    // ---- common calls -----------------------------------------------------------------------------

    public Volume createVolume(String name) {
        return controller().createVolume(Csi.createVolume(name).build()).getVolume();
    }

    public Snapshot createSnapshot(String name, String volumeId) {
        return controller().createSnapshot(Csi.snapshot(name, volumeId)).getSnapshot();
    }

    /** Stages the volume at {@link #staging}, as a SINGLE_NODE_WRITER mount. */
    public Path stage(String volumeId) {
        node().nodeStageVolume(Csi.stage(volumeId, staging(volumeId)));
        return staging(volumeId);
    }

    /** Publishes a staged volume read-write for {@code pod}; returns the target path. */
    public Path publish(String volumeId, String pod) {
        node().nodePublishVolume(Csi.publish(volumeId, staging(volumeId), target(pod)).build());
        return target(pod);
    }

    public void unpublish(String volumeId, Path target) {
        node().nodeUnpublishVolume(Csi.unpublish(volumeId, target));
    }

    public void unstage(String volumeId) {
        node().nodeUnstageVolume(Csi.unstage(volumeId, staging(volumeId)));
    }

    public void deleteVolume(String volumeId) {
        controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(volumeId).build());
    }

    public void deleteSnapshot(String snapshotId) {
        controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshotId).build());
    }

    /** Every volume, following next_token. */
    public List<ListVolumesResponse.Entry> listVolumes() {
        List<ListVolumesResponse.Entry> all = new ArrayList<>();
        String token = "";
        do {
            ListVolumesResponse page = controller().listVolumes(ListVolumesRequest.newBuilder()
                    .setStartingToken(token).build());
            all.addAll(page.getEntriesList());
            token = page.getNextToken();
        } while (!token.isEmpty());
        return all;
    }

    public List<String> listVolumeIds() {
        return listVolumes().stream().map(e -> e.getVolume().getVolumeId()).toList();
    }

    public List<Snapshot> listSnapshots(ListSnapshotsRequest request) {
        List<Snapshot> all = new ArrayList<>();
        String token = "";
        do {
            ListSnapshotsResponse page = controller().listSnapshots(request.toBuilder().setStartingToken(token)
                    .build());
            page.getEntriesList().forEach(e -> all.add(e.getSnapshot()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        return all;
    }

    public List<String> listSnapshotIds() {
        return listSnapshots(ListSnapshotsRequest.getDefaultInstance()).stream().map(Snapshot::getSnapshotId).toList();
    }

    // ---- connections --------------------------------------------------------------------------------

    /** A plaintext gRPC channel over the Unix socket, with its own event loop. */
    public static final class Connection implements AutoCloseable {
        static {
            // gRPC asks for SO_KEEPALIVE on every channel, which a Unix socket does not have: not news.
            quiet("io.netty.bootstrap.Bootstrap");
        }

        private final ManagedChannel channel;
        private final EventLoopGroup group;

        /** Connects to the driver's socket (the channel connects on its first call). */
        @SuppressWarnings("deprecation") // EpollEventLoopGroup: the same transport the server uses
        public Connection(Path socket) {
            this.group = new EpollEventLoopGroup(1);
            this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .eventLoopGroup(group)
                    .channelType(EpollDomainSocketChannel.class)
                    .usePlaintext()
                    .build();
        }

        /** The channel to make calls on. */
        public ManagedChannel channel() {
            return channel;
        }

        /**
         * Sets a logger to ERROR when logback is the SLF4J binding, as the driver's and e2e's tests
         * have it; through reflection, so that the testkit does not bring a logging backend of its own.
         */
        private static void quiet(String name) {
            Object logger = LoggerFactory.getLogger(name);
            try {
                Class<?> level = Class.forName("ch.qos.logback.classic.Level", true,
                        logger.getClass().getClassLoader());
                logger.getClass().getMethod("setLevel", level).invoke(logger, level.getField("ERROR").get(null));
            } catch (ReflectiveOperationException | LinkageError e) {
                // another binding: its own configuration decides
            }
        }

        @Override
        public void close() {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Deletes a tree without following symbolic links out of it. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
