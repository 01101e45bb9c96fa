package dev.strata.cli;

import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.ControllerPublishVolumeRequest;
import dev.strata.csi.v1.ControllerUnpublishVolumeRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.NodeUnpublishVolumeRequest;
import dev.strata.csi.v1.NodeUnstageVolumeRequest;
import dev.strata.csi.v1.Volume;
import dev.strata.csi.v1.VolumeCapability;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One volume through the calls a CO makes over its life: create, attach, stage, publish, then the
 * reverse. A failed call ends the forward path; the undo path then runs for every step that was
 * attempted, the failed one included, because CSI makes each undo call idempotent and a failed (or
 * timed-out) call may still have done its work.
 */
final class VolumeLifecycle {
    /** What is the same for every volume of a run. */
    record Plan(long sizeBytes, Map<String, String> parameters, VolumeCapability capability,
            boolean controllerPublish, boolean stage, String nodeId) {}

    /** A failed call (or local step): which volume, which method, what went wrong. */
    record Failure(String volumeName, String method, Exception error) {}

    private final CsiClient client;
    private final LatencyRecorder recorder;
    private final Consumer<Failure> failures;
    private final Plan plan;
    private final String name;
    private final Path stagingDir;
    private final Path targetPath;

    private String volumeId;
    private Map<String, String> volumeContext = Map.of();
    private Map<String, String> publishContext = Map.of();
    private boolean attached;
    private boolean staged;
    private boolean published;

    VolumeLifecycle(CsiClient client, LatencyRecorder recorder, Consumer<Failure> failures, Plan plan, String name,
            Path stagingDir, Path targetPath) {
        this.client = client;
        this.recorder = recorder;
        this.failures = failures;
        this.plan = plan;
        this.name = name;
        this.stagingDir = stagingDir;
        this.targetPath = targetPath;
    }

    void run() {
        try {
            forward();
        } catch (StatusRuntimeException e) {
            // Already recorded and reported; go and undo what was done.
        } catch (RuntimeException e) {
            // A local step (mkdir) failed: no CSI call to blame, but the run must still count it.
            failures.accept(new Failure(name, "local", e));
        }
        undo();
    }

    private void forward() {
        CreateVolumeRequest.Builder create = CreateVolumeRequest.newBuilder().setName(name)
                .addVolumeCapabilities(plan.capability()).putAllParameters(plan.parameters());
        if (plan.sizeBytes() > 0) {
            create.setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(plan.sizeBytes()));
        }
        Volume v = call("CreateVolume", () -> client.controller().createVolume(create.build())).getVolume();
        volumeId = v.getVolumeId();
        volumeContext = v.getVolumeContextMap();
        if (plan.controllerPublish()) {
            attached = true;
            publishContext = call("ControllerPublishVolume", () -> client.controller().controllerPublishVolume(
                    ControllerPublishVolumeRequest.newBuilder().setVolumeId(volumeId).setNodeId(plan.nodeId())
                            .setVolumeCapability(plan.capability()).putAllVolumeContext(volumeContext).build()))
                    .getPublishContextMap();
        }
        if (plan.stage()) {
            mkdir(stagingDir);
            staged = true;
            call("NodeStageVolume", () -> client.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder()
                    .setVolumeId(volumeId).putAllPublishContext(publishContext)
                    .setStagingTargetPath(stagingDir.toString()).setVolumeCapability(plan.capability())
                    .putAllVolumeContext(volumeContext).build()));
        }
        published = true;
        call("NodePublishVolume", () -> client.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder()
                .setVolumeId(volumeId).putAllPublishContext(publishContext)
                .setStagingTargetPath(plan.stage() ? stagingDir.toString() : "")
                .setTargetPath(targetPath.toString()).setVolumeCapability(plan.capability())
                .putAllVolumeContext(volumeContext).build()));
    }

    /** Best effort: each step is tried even when an earlier undo step failed, to leak as little as possible. */
    private void undo() {
        if (published) {
            tryCall("NodeUnpublishVolume", () -> client.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest
                    .newBuilder().setVolumeId(volumeId).setTargetPath(targetPath.toString()).build()));
        }
        if (staged) {
            tryCall("NodeUnstageVolume", () -> client.node().nodeUnstageVolume(NodeUnstageVolumeRequest
                    .newBuilder().setVolumeId(volumeId).setStagingTargetPath(stagingDir.toString()).build()));
        }
        if (attached) {
            tryCall("ControllerUnpublishVolume", () -> client.controller().controllerUnpublishVolume(
                    ControllerUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId).setNodeId(plan.nodeId())
                            .build()));
        }
        if (volumeId != null) {
            tryCall("DeleteVolume", () -> client.controller().deleteVolume(
                    DeleteVolumeRequest.newBuilder().setVolumeId(volumeId).build()));
        }
    }

    private <T> T call(String method, Supplier<T> rpc) {
        try {
            return recorder.time(method, rpc);
        } catch (StatusRuntimeException e) {
            failures.accept(new Failure(name, method, e));
            throw e;
        }
    }

    private void tryCall(String method, Supplier<?> rpc) {
        try {
            call(method, rpc);
        } catch (StatusRuntimeException e) {
            // Reported by call(); the remaining undo steps still run.
        }
    }

    private static void mkdir(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
