package dev.strata.node.engine.dir;

import static dev.strata.node.engine.dir.SizedDirVolumeTest.MIB;
import static dev.strata.node.engine.dir.SizedDirVolumeTest.assertFull;
import static dev.strata.node.engine.dir.SizedDirVolumeTest.volume;
import static dev.strata.node.engine.dir.SizedDirVolumeTest.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.MountScratch;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.size.LoopFilesystem;
import dev.strata.node.engine.size.ProjectQuota;
import dev.strata.node.engine.size.ProjectQuotaFilesystems;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Directory volumes held to their size where this machine's kernel cannot test it: project quotas on
 * xfs and on ext4, chosen by the engine itself from the data filesystem's mount options, and a
 * loop-backed volume grown while a pod writes to it (this host's root lacks CAP_SYS_RESOURCE). Runs
 * in the VM on Debian's kernel (see vm/README.md).
 */
@Tag("vm")
@Timeout(600)
class SizedDirVmTest {
    @RegisterExtension
    final MountScratch scratch = new MountScratch("loop devices, mounts and quotas");

    private final Mounter mounter = new Mounter();
    private final CommandRunner runner = new CommandRunner();

    @Test
    void onXfsEachVolumeIsAProjectWithAHardLimitRaisedOnline() throws Exception {
        checkProjectQuotas("xfs", ProjectQuotaFilesystems.xfs(scratch.dir(), runner));
    }

    @Test
    void onExt4EachVolumeIsAProjectWithAHardLimitRaisedOnline() throws Exception {
        checkProjectQuotas("ext4", ProjectQuotaFilesystems.ext4(scratch.dir(), runner));
    }

    private void checkProjectQuotas(String type, Path filesystem) throws Exception {
        DirEngine engine = new DirEngine(filesystem.resolve("dir"), mounter, runner); // detects the quotas itself
        engine.start();
        VolumeRecord v = volume("vol-quota", 32 * MIB, Map.of(), null);
        engine.create(v);
        assertEquals(Map.of("sizeLimit", ProjectQuota.name(type)), engine.attributes(v));
        Path staging = Files.createDirectories(scratch.dir().resolve("staging"));
        engine.stage(v, staging, BindOptions.NONE);
        assertEquals(32 * MIB, LibC.statvfs(staging).totalBytes(), "statfs in a project reports its limit");
        assertEquals(32 * MIB, engine.usage(v, staging).totalBytes());

        CommandRunner.Result refused = ProjectQuotaFilesystems.writeAsAPod(runner, staging.resolve("big"), 48);
        assertFalse(refused.ok(), "48 MiB written into a 32 MiB volume");
        assertTrue(refused.stderr().contains("Disk quota exceeded") || refused.stderr().contains("No space left"),
                refused.stderr());
        Files.delete(staging.resolve("big"));
        engine.expand(v, 96 * MIB); // online: the limit is raised under the mounted volume
        CommandRunner.Result grown = ProjectQuotaFilesystems.writeAsAPod(runner, staging.resolve("big"), 48);
        assertTrue(grown.ok(), grown.stderr());
        assertEquals(48 * MIB, Files.size(staging.resolve("big")));
        assertEquals(96 * MIB, LibC.statvfs(staging).totalBytes());

        engine.unstage(v, staging);
        engine.delete(v.id());
        engine.drainTrash();
        assertEquals(List.of(), MountTable.read().under(filesystem.resolve("dir")));
        engine.close();
    }

    @Test
    void aLoopBackedVolumeGrowsWhileAPodWritesToIt() throws Exception {
        Assumptions.assumeTrue(Posix.hasCapability(Posix.CAP_SYS_RESOURCE), "needs CAP_SYS_RESOURCE");
        Path root = scratch.dir().resolve("dir");
        DirEngine engine = DirEngine.withLimit(root, mounter, runner, new LoopFilesystem(mounter, runner));
        engine.start();
        VolumeRecord v = volume("vol-grow", 32 * MIB, Map.of(), null);
        engine.create(v);
        Path staging = Files.createDirectories(scratch.dir().resolve("staging"));
        engine.stage(v, staging, BindOptions.NONE);
        assertFull(assertThrows(IOException.class, () -> write(staging.resolve("big"), 48 * MIB)));
        Files.delete(staging.resolve("big"));
        engine.expand(v, 96 * MIB);
        write(staging.resolve("big"), 48 * MIB);
        assertEquals(48 * MIB, Files.size(staging.resolve("big")));
        engine.unstage(v, staging);
        engine.delete(v.id());
        engine.drainTrash();
        assertEquals(List.of(), MountTable.read().under(root));
        engine.close();
    }
}
