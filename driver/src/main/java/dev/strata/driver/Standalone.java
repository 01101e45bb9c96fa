package dev.strata.driver;

import dev.strata.common.Gate;
import dev.strata.common.grpc.CsiServer;
import dev.strata.common.grpc.Endpoint;
import dev.strata.common.identity.IdentityService;
import dev.strata.common.metrics.StrataMetrics;
import dev.strata.controller.ControllerService;
import dev.strata.controller.GroupControllerService;
import dev.strata.csi.v1.PluginCapability;
import dev.strata.node.NodeService;
import dev.strata.node.SnapshotMetadataService;
import dev.strata.node.metrics.StorageSamples;
import dev.strata.node.mount.Mounter;
import dev.strata.node.storage.LocalStorage;
import dev.strata.node.storage.NodeStorage;
import dev.strata.node.storage.StorageConfig;
import dev.strata.node.storage.StorageOpener;
import io.grpc.BindableService;
import java.io.IOException;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The standalone driver, wired: Identity, Controller, GroupController and Node on one socket, over
 * this host's storage. The socket answers (Probe: not ready) while storage is still being recovered.
 */
public final class Standalone implements AutoCloseable {
    private final CsiServer server;
    private final Gate<NodeStorage> storage;

    private Standalone(CsiServer server, Gate<NodeStorage> storage) {
        this.server = server;
        this.storage = storage;
    }

    public static Standalone start(Endpoint endpoint, StorageConfig config, Duration drainTimeout) throws IOException {
        return start(endpoint, config, drainTimeout, null);
    }

    /** As above, measured in {@code metrics} (calls and storage); null: not measured. */
    public static Standalone start(Endpoint endpoint, StorageConfig config, Duration drainTimeout,
            StrataMetrics metrics) throws IOException {
        Gate<NodeStorage> storage = new Gate<>("storage");
        Gate<LocalStorage> provisioner = storage.part(NodeStorage::provisioner);
        Mounter mounter = new Mounter();
        List<PluginCapability> capabilities = new ArrayList<>(List.of(
                IdentityService.service(PluginCapability.Service.Type.CONTROLLER_SERVICE),
                IdentityService.service(PluginCapability.Service.Type.GROUP_CONTROLLER_SERVICE),
                IdentityService.service(PluginCapability.Service.Type.VOLUME_ACCESSIBILITY_CONSTRAINTS),
                IdentityService.onlineExpansion()));
        if (config.thinPool() != null) {
            // Changed-block tracking comes from the thin pool's metadata.
            capabilities.add(IdentityService.service(PluginCapability.Service.Type.SNAPSHOT_METADATA_SERVICE));
        }
        List<BindableService> services = List.of(
                new IdentityService(capabilities, storage::isOpen,
                        Map.of(IdentityService.DATA_DIR, config.dataDir().toAbsolutePath().toString())),
                new ControllerService(provisioner, provisioner),
                new GroupControllerService(provisioner, provisioner),
                new NodeService(config, storage.part(NodeStorage::volumes)),
                new SnapshotMetadataService(provisioner, storage.part(NodeStorage::engines)));
        CsiServer server = CsiServer.start(endpoint, services, drainTimeout, metrics);
        try {
            NodeStorage opened = StorageOpener.open(config, mounter);
            storage.open(opened);
            if (metrics != null) {
                metrics.add("storage", new StorageSamples(opened.provisioner(), opened.engines()));
            }
        } catch (IOException | RuntimeException e) {
            server.stop();
            throw e;
        }
        return new Standalone(server, storage);
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Drains in-flight calls, closes the socket, then lets the engines finish their background work. */
    @Override
    public void close() {
        server.stop();
        if (storage.isOpen()) {
            try {
                storage.get().close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
