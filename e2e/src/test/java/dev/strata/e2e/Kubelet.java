package dev.strata.e2e;

import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.ListVolumesRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.NodeUnpublishVolumeRequest;
import dev.strata.csi.v1.NodeUnstageVolumeRequest;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.csi.v1.VolumeCapability.AccessMode.Mode;
import dev.strata.csi.v1.VolumeContentSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * Kubelet's (and the external-provisioner's) side of CSI, as it would drive Strata for pods on this
 * node: a PV is created, staged at its global mount, published into each pod's volume directory
 * ({@code pods/UID/volumes/kubernetes.io~csi/PV/mount}), unpublished, unstaged, deleted. What a test
 * left done (it failed half way) is undone by {@link #cleanUp()}.
 */
final class Kubelet {
    static final String EPHEMERAL = "csi.storage.k8s.io/ephemeral";
    static final long SIZE = 128L << 20;

    /** A PersistentVolume as kubelet sees it: its name (kubelet's directories) and its volume handle. */
    record Pv(String name, String handle, String engine) {}

    private final DriverProcess driver;
    private final Path dir;
    /** What to undo, newest first. */
    private final Deque<Runnable> undo = new ArrayDeque<>();

    Kubelet(DriverProcess driver) {
        this.driver = driver;
        this.dir = driver.root().resolve("kubelet");
    }

    /** Kubelet's root directory (pods, plugins). */
    Path dir() {
        return dir;
    }

    /**
     * The access mode the pods ask for: ReadWriteMany where the engine has it, else ReadWriteOnce as
     * CSI's SINGLE_NODE_MULTI_WRITER (several pods on the one node).
     */
    static VolumeCapability capability(String engine) {
        Mode mode = engine.equals("shared") || engine.equals("hostpath") ? Mode.MULTI_NODE_MULTI_WRITER
                : Mode.SINGLE_NODE_MULTI_WRITER;
        return VolumeCapability.newBuilder().setMount(VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(VolumeCapability.AccessMode.newBuilder().setMode(mode)).build();
    }

    /** A dynamically provisioned PV of the StorageClass with {@code engine}. */
    Pv create(String name, String engine) {
        return create(name, engine, null);
    }

    /** A dynamically provisioned PV, restored from a snapshot or cloned when {@code source} is given. */
    Pv create(String name, String engine, VolumeContentSource source) {
        CreateVolumeRequest.Builder request = CreateVolumeRequest.newBuilder().setName(name)
                .addVolumeCapabilities(capability(engine)).putParameters("engine", engine)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(SIZE));
        if (source != null) {
            request.setVolumeContentSource(source);
        }
        String handle = driver.controller().createVolume(request.build()).getVolume().getVolumeId();
        Pv pv = new Pv(name, handle, engine);
        undo.push(() -> delete(pv));
        return pv;
    }

    /** A statically provisioned PV (a hostpath volume whose handle is a host path). */
    static Pv existing(String name, Path hostPath) {
        return new Pv(name, hostPath.toString(), "hostpath");
    }

    Path staging(Pv pv) {
        return dir.resolve("plugins/kubernetes.io/csi/strata.csi.dev").resolve(pv.name()).resolve("globalmount");
    }

    Path target(Pv pv, String podUid) {
        return dir.resolve("pods").resolve(podUid).resolve("volumes/kubernetes.io~csi").resolve(pv.name())
                .resolve("mount");
    }

    void stage(Pv pv) {
        driver.node().nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(pv.handle())
                .setStagingTargetPath(staging(pv).toString()).setVolumeCapability(capability(pv.engine())).build());
        undo.push(() -> unstage(pv));
    }

    /** Publishes a staged PV into a pod's volume directory; returns the path a container mounts. */
    Path publish(Pv pv, String podUid, boolean readOnly) throws IOException {
        Path target = target(pv, podUid);
        Files.createDirectories(target.getParent());
        driver.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(pv.handle())
                .setStagingTargetPath(staging(pv).toString()).setTargetPath(target.toString())
                .setVolumeCapability(capability(pv.engine())).setReadonly(readOnly).build());
        undo.push(() -> unpublish(pv.handle(), target));
        return target;
    }

    /**
     * An ephemeral inline volume (a CSI volume in the pod's spec): kubelet publishes a volume nobody
     * created, named {@code csi-HASH}, with the volume attributes of the pod spec.
     */
    Path publishInline(String handle, String podUid, Map<String, String> attributes) throws IOException {
        Path target = target(new Pv(handle, handle, ""), podUid);
        Files.createDirectories(target.getParent());
        driver.node().nodePublishVolume(NodePublishVolumeRequest.newBuilder().setVolumeId(handle)
                .setTargetPath(target.toString()).setVolumeCapability(capability("dir"))
                .putVolumeContext(EPHEMERAL, "true").putVolumeContext("csi.storage.k8s.io/pod.uid", podUid)
                .putAllVolumeContext(attributes).build());
        undo.push(() -> unpublish(handle, target));
        return target;
    }

    void unpublish(String handle, Path target) {
        driver.node().nodeUnpublishVolume(NodeUnpublishVolumeRequest.newBuilder().setVolumeId(handle)
                .setTargetPath(target.toString()).build());
    }

    void unstage(Pv pv) {
        driver.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(pv.handle())
                .setStagingTargetPath(staging(pv).toString()).build());
    }

    void delete(Pv pv) {
        driver.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(pv.handle()).build());
    }

    /** The IDs of every volume the driver knows. */
    List<String> volumeIds() {
        List<String> ids = new ArrayList<>();
        String token = "";
        do {
            ListVolumesResponse page = driver.controller().listVolumes(ListVolumesRequest.newBuilder()
                    .setStartingToken(token).build());
            page.getEntriesList().forEach(e -> ids.add(e.getVolume().getVolumeId()));
            token = page.getNextToken();
        } while (!token.isEmpty());
        return ids;
    }

    /** Undoes, newest first and ignoring errors, whatever a failed test left published, staged or created. */
    void cleanUp() {
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (RuntimeException ignored) {
                // already undone by the test, or the test's failure is the news
            }
        }
    }
}
