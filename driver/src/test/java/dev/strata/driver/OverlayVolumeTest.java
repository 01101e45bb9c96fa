package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.NodeGetVolumeStatsRequest;
import dev.strata.csi.v1.VolumeUsage;
import dev.strata.node.sys.Posix;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The overlay engine through CSI: layers, snapshots while in use, restores, whiteouts, layer counting. */
class OverlayVolumeTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @BeforeEach
    void needsRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: overlay and bind mounts");
    }

    private String create(String name, CreateVolumeRequest.Builder request) {
        return csi.controller().createVolume(request.setName(name).putParameters("engine", "overlay").build())
                .getVolume().getVolumeId();
    }

    private Path mount(String id, String pod) {
        csi.stage(id);
        return csi.publish(id, pod);
    }

    private void unmount(String id, Path target) {
        csi.unpublish(id, target);
        csi.unstage(id);
    }

    private Path layers() {
        return csi.dataDir().resolve("engines/overlay/layers");
    }

    private Path upper(String volumeId) {
        return csi.dataDir().resolve("engines/overlay/volumes").resolve(volumeId).resolve("fs/upper");
    }

    @Test
    void aSnapshotTakenWhileWritingRestoresWithoutCopying() throws Exception {
        String id = create("app", Csi.createVolume("app"));
        Path live = mount(id, "app");
        Files.writeString(live.resolve("kept.txt"), "kept");
        Files.writeString(live.resolve("deleted.txt"), "gone soon");
        Files.createDirectories(live.resolve("replaced"));
        Files.writeString(live.resolve("replaced/old.txt"), "old");
        String first = csi.createSnapshot("app-1", id).getSnapshotId();

        Files.delete(live.resolve("deleted.txt"));
        Files.delete(live.resolve("replaced/old.txt"));
        Files.delete(live.resolve("replaced"));
        Files.createDirectories(live.resolve("replaced"));
        Files.writeString(live.resolve("replaced/new.txt"), "new");

        // Snapshot while a writer keeps appending: the volume stays mounted and in use throughout.
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger lines = new AtomicInteger();
        Thread writer = new Thread(() -> {
            while (writing.get()) {
                try {
                    Files.writeString(live.resolve("log.txt"), "line\n", java.nio.file.StandardOpenOption.CREATE,
                            java.nio.file.StandardOpenOption.APPEND);
                    lines.incrementAndGet();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        writer.start();
        while (lines.get() < 100) {
            Thread.onSpinWait();
        }
        String second = csi.createSnapshot("app-2", id).getSnapshotId();
        int before = lines.get();
        while (lines.get() < before + 100) {
            Thread.onSpinWait();
        }
        writing.set(false);
        writer.join();
        assertTrue(Files.readAllLines(live.resolve("log.txt")).size() >= before + 100, "the volume kept working");

        String restored = create("restored", Csi.createVolume("restored").setVolumeContentSource(Csi.fromSnapshot(second)));
        assertEquals(List.of(), CsiCalls.names(upper(restored)), "a restore copies nothing");
        Path view = mount(restored, "restored");
        assertEquals("kept", Files.readString(view.resolve("kept.txt")));
        assertFalse(Files.exists(view.resolve("deleted.txt")), "a deleted file stays deleted in the restore");
        assertEquals(List.of("new.txt"), CsiCalls.names(view.resolve("replaced")), "a replaced directory stays replaced");
        assertTrue(Files.readAllLines(view.resolve("log.txt")).stream().allMatch("line"::equals));
        Files.writeString(view.resolve("kept.txt"), "changed in the restore");
        assertEquals("kept", Files.readString(live.resolve("kept.txt")), "the source does not see the restore's writes");

        String old = create("old", Csi.createVolume("old").setVolumeContentSource(Csi.fromSnapshot(first)));
        Path oldView = mount(old, "old");
        assertTrue(Files.exists(oldView.resolve("deleted.txt")), "the first snapshot still has the file");
        assertEquals(List.of("old.txt"), CsiCalls.names(oldView.resolve("replaced")));

        unmount(old, oldView);
        unmount(restored, view);
        unmount(id, live);
        csi.deleteVolume(old);
        csi.deleteSnapshot(first);
        csi.deleteSnapshot(second);
        csi.deleteVolume(id);
        assertTrue(Files.isDirectory(layers().resolve(second)), "the restore still needs the second snapshot's layer");
        assertTrue(Files.isDirectory(layers().resolve(first)), "the second snapshot stacks on the first one's layer");
        csi.deleteVolume(restored);
        assertEquals(List.of(), CsiCalls.names(layers()), "the last user gone, every layer is collected");
    }

    @Test
    void aCloneIsASnapshotAndARestore() throws Exception {
        String id = create("src", Csi.createVolume("src"));
        Path src = mount(id, "src");
        Files.writeString(src.resolve("data.txt"), "original");
        String clone = create("clone", Csi.createVolume("clone").setVolumeContentSource(Csi.fromVolume(id)));
        Path view = mount(clone, "clone");
        assertEquals("original", Files.readString(view.resolve("data.txt")));
        Files.writeString(src.resolve("data.txt"), "changed in the source");
        assertEquals("original", Files.readString(view.resolve("data.txt")));
        // A restore that names no engine stays in its source's engine.
        String plain = csi.controller().createVolume(Csi.createVolume("plain-clone")
                .setVolumeContentSource(Csi.fromVolume(id)).build()).getVolume().getVolumeId();
        assertEquals("overlay", csi.listVolumes().stream().filter(e -> e.getVolume().getVolumeId().equals(plain))
                .findFirst().orElseThrow().getVolume().getVolumeContextOrThrow("strata.csi.dev/engine"));
        unmount(clone, view);
        unmount(id, src);
        csi.deleteVolume(plain);
        csi.deleteVolume(id);
        csi.deleteVolume(clone);
        assertEquals(List.of(), CsiCalls.names(layers()));
    }

    @Test
    void writesPastTheSizeFailWithEnospcAndTheVolumeContextSaysHowTheSizeIsHeld() throws Exception {
        String id = create("small", Csi.createVolume("small")
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(32L << 20)));
        assertEquals("loop-ext4", csi.listVolumes().stream().filter(e -> e.getVolume().getVolumeId().equals(id))
                .findFirst().orElseThrow().getVolume().getVolumeContextOrThrow("strata.csi.dev/sizeLimit"));
        Path live = mount(id, "small");
        byte[] mib = new byte[1 << 20];
        IOException full = assertThrows(IOException.class, () -> {
            try (OutputStream out = Files.newOutputStream(live.resolve("big"))) {
                for (int i = 0; i < 48; i++) {
                    out.write(mib);
                }
            }
        });
        assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), full.toString());
        long total = csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest.newBuilder().setVolumeId(id)
                .setVolumePath(live.toString()).build()).getUsageList().stream()
                .filter(u -> u.getUnit() == VolumeUsage.Unit.BYTES).findFirst().orElseThrow().getTotal();
        assertTrue(total <= 32L << 20 && total > 24L << 20, "the volume's own filesystem: " + total + " bytes");
        unmount(id, live);
        csi.deleteVolume(id);
        assertEquals(List.of(), CsiCalls.names(csi.dataDir().resolve("engines/overlay/volumes")));
    }
}
