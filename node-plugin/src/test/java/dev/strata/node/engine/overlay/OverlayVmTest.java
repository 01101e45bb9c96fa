package dev.strata.node.engine.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.MountScratch;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.size.LoopFilesystem;
import dev.strata.node.engine.size.ProjectQuota;
import dev.strata.node.engine.size.ProjectQuotaFilesystems;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The overlay engine's size limits where the host kernel cannot test them: xfs project quotas
 * (this machine's kernel has no quotas) and growing a mounted ext4 (its root lacks
 * CAP_SYS_RESOURCE). Runs in the VM on Debian's kernel (see vm/README.md).
 */
@Tag("vm")
@Timeout(600)
class OverlayVmTest {
    private static final long MIB = 1L << 20;

    @RegisterExtension
    final MountScratch scratch = new MountScratch("overlay, loop and xfs mounts");

    private final Mounter mounter = new Mounter();
    private final CommandRunner runner = new CommandRunner();

    private static VolumeRecord volume(String id, long bytes) {
        return new VolumeRecord(id, id, OverlayEngine.NAME, bytes, AccessType.MOUNT, Map.of(), Map.of(), null,
                "node", List.of(), RecordState.CREATING, Instant.now(), Map.of());
    }

    private static void write(Path file, long bytes) throws IOException {
        byte[] chunk = new byte[(int) MIB];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long n = 0; n < bytes; n += chunk.length) {
                out.write(chunk);
            }
        }
    }

    @Test
    void onXfsWithProjectQuotasEachVolumeIsAProjectWithAHardLimit() throws Exception {
        Path xfs = ProjectQuotaFilesystems.xfs(scratch.dir(), runner);
        OverlayEngine engine = new OverlayEngine(xfs.resolve("overlay"), mounter, runner);
        engine.start();
        VolumeRecord v = volume("vol-quota", 32 * MIB);
        engine.create(v);
        assertEquals(Map.of(SizeLimit.ATTRIBUTE, ProjectQuota.name("xfs")), engine.attributes(v));
        Path live = Files.createDirectories(scratch.dir().resolve("staging"));
        engine.stage(v, live, BindOptions.NONE);

        IOException full = assertThrows(IOException.class, () -> write(live.resolve("big"), 48 * MIB));
        assertTrue(String.valueOf(full.getMessage()).contains("No space left on device")
                || String.valueOf(full.getMessage()).contains("quota"), full.toString());
        Files.delete(live.resolve("big"));

        engine.expand(v.withCapacity(96 * MIB), 96 * MIB); // online: the limit is raised under the writer
        write(live.resolve("big"), 48 * MIB);
        assertEquals(48 * MIB, Files.size(live.resolve("big")));
        engine.unstage(v, live);
        engine.delete(v.id());
        engine.close();
    }

    @Test
    void aLoopBackedExt4GrowsWhileTheVolumeIsInUse() throws Exception {
        Assumptions.assumeTrue(Posix.hasCapability(Posix.CAP_SYS_RESOURCE), "needs CAP_SYS_RESOURCE");
        Path root = scratch.dir().resolve("overlay");
        OverlayEngine engine = new OverlayEngine(root, mounter, runner, new LoopFilesystem(mounter, runner),
                OverlayEngine.FLATTEN_DEPTH);
        engine.start();
        VolumeRecord v = volume("vol-grow", 32 * MIB);
        engine.create(v);
        Path live = Files.createDirectories(scratch.dir().resolve("staging"));
        engine.stage(v, live, BindOptions.NONE);
        write(live.resolve("first"), 16 * MIB);
        long before = LibC.statvfs(live).totalBytes();
        engine.expand(v.withCapacity(96 * MIB), 96 * MIB);
        long after = LibC.statvfs(live).totalBytes();
        assertTrue(after > before + 48 * MIB, "grown while mounted: " + before + " -> " + after);
        write(live.resolve("second"), 48 * MIB);
        assertEquals(16 * MIB, Files.size(live.resolve("first")));
        engine.unstage(v, live);
        engine.delete(v.id());
        engine.close();
    }
}
