package dev.strata.common.identity;

import com.google.protobuf.BoolValue;
import dev.strata.common.BuildInfo;
import dev.strata.csi.v1.GetPluginCapabilitiesRequest;
import dev.strata.csi.v1.GetPluginCapabilitiesResponse;
import dev.strata.csi.v1.GetPluginInfoRequest;
import dev.strata.csi.v1.GetPluginInfoResponse;
import dev.strata.csi.v1.IdentityGrpc;
import dev.strata.csi.v1.PluginCapability;
import dev.strata.csi.v1.ProbeRequest;
import dev.strata.csi.v1.ProbeResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** CSI Identity: who the plugin is, what it offers, and whether its storage is ready. */
public final class IdentityService extends IdentityGrpc.IdentityImplBase {
    /**
     * GetPluginInfo's manifest key for the directory where the plugin keeps its records (standalone):
     * {@code stratactl} reads there where each volume is staged and published, and snapshot names.
     */
    public static final String DATA_DIR = "strata.csi.dev/data-dir";

    private final List<PluginCapability> capabilities;
    private final BooleanSupplier ready;
    private final Map<String, String> manifest;

    public IdentityService(List<PluginCapability> capabilities, BooleanSupplier ready) {
        this(capabilities, ready, Map.of());
    }

    public IdentityService(List<PluginCapability> capabilities, BooleanSupplier ready, Map<String, String> manifest) {
        this.capabilities = List.copyOf(capabilities);
        this.ready = ready;
        this.manifest = Map.copyOf(manifest);
    }

    public static PluginCapability service(PluginCapability.Service.Type type) {
        return PluginCapability.newBuilder()
                .setService(PluginCapability.Service.newBuilder().setType(type)).build();
    }

    public static PluginCapability onlineExpansion() {
        return PluginCapability.newBuilder().setVolumeExpansion(PluginCapability.VolumeExpansion.newBuilder()
                .setType(PluginCapability.VolumeExpansion.Type.ONLINE)).build();
    }

    @Override
    public void getPluginInfo(GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> response) {
        response.onNext(GetPluginInfoResponse.newBuilder()
                .setName(BuildInfo.DRIVER_NAME)
                .setVendorVersion(BuildInfo.VERSION)
                .putAllManifest(manifest)
                .build());
        response.onCompleted();
    }

    @Override
    public void getPluginCapabilities(GetPluginCapabilitiesRequest request,
            StreamObserver<GetPluginCapabilitiesResponse> response) {
        response.onNext(GetPluginCapabilitiesResponse.newBuilder().addAllCapabilities(capabilities).build());
        response.onCompleted();
    }

    @Override
    public void probe(ProbeRequest request, StreamObserver<ProbeResponse> response) {
        response.onNext(ProbeResponse.newBuilder().setReady(BoolValue.of(ready.getAsBoolean())).build());
        response.onCompleted();
    }
}
