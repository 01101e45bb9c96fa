package dev.strata.node.engine.hostpath;

import static dev.strata.node.engine.size.ProjectQuotaFilesystems.writeAsAPod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.MountScratch;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.size.ProjectQuota;
import dev.strata.node.engine.size.ProjectQuotaFilesystems;
import dev.strata.node.engine.size.SizeLimit;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.LibC;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Host directories Strata makes, held to their size by project quotas on xfs and on ext4, which
 * this machine's kernel lacks: runs in the VM on Debian's kernel (see vm/README.md). A volume that
 * opts out, and one whose directory was there before, share the filesystem's free space.
 */
@Tag("vm")
@Timeout(600)
class HostPathSizesVmTest {
    static final long MIB = 1L << 20;

    @RegisterExtension
    final MountScratch scratch = new MountScratch("mounts and quotas");

    private final Mounter mounter = new Mounter();
    private final CommandRunner runner = new CommandRunner();

    @Test
    void onXfsADirectoryStrataMakesIsHeldToItsSize() throws Exception {
        check("xfs", ProjectQuotaFilesystems.xfs(scratch.dir(), runner));
    }

    @Test
    void onExt4ADirectoryStrataMakesIsHeldToItsSize() throws Exception {
        check("ext4", ProjectQuotaFilesystems.ext4(scratch.dir(), runner));
    }

    private static VolumeRecord volume(String name, long bytes, Map<String, String> parameters) {
        return volume("vol-" + name, name, bytes, parameters);
    }

    private static VolumeRecord volume(String id, String name, long bytes, Map<String, String> parameters) {
        return new VolumeRecord(id, name, HostPathEngine.NAME, bytes, AccessType.MOUNT, parameters,
                Map.of(), null, "node-1", List.of(), RecordState.CREATING, Instant.now(), Map.of());
    }

    private void check(String type, Path filesystem) throws Exception {
        Path root = Files.createDirectories(filesystem.resolve("host"));
        HostPathEngine engine = new HostPathEngine(scratch.dir().resolve("engine"), new HostPaths(List.of(root)),
                mounter, runner);
        VolumeRecord sized = volume("sized", 32 * MIB, Map.of());
        engine.create(sized);
        assertEquals(Map.of(SizeLimit.ATTRIBUTE, ProjectQuota.name(type)), engine.attributes(sized));
        Path staging = Files.createDirectories(scratch.dir().resolve("staging"));
        engine.stage(sized, staging, BindOptions.NONE);
        assertEquals(32 * MIB, LibC.statvfs(staging).totalBytes(), "statfs in the volume reports its limit");

        CommandRunner.Result refused = writeAsAPod(runner, staging.resolve("big"), 48);
        assertFalse(refused.ok(), "48 MiB written into a 32 MiB volume");
        assertTrue(refused.stderr().contains("Disk quota exceeded") || refused.stderr().contains("No space left"),
                refused.stderr());
        Files.delete(staging.resolve("big"));
        engine.expand(sized, 96 * MIB); // online: the limit is raised under the staged volume
        CommandRunner.Result grown = writeAsAPod(runner, staging.resolve("big"), 48);
        assertTrue(grown.ok(), grown.stderr());
        assertEquals(96 * MIB, LibC.statvfs(staging).totalBytes());
        assertEquals(48 * MIB, Files.size(root.resolve("sized/big")), "the host sees what the pod wrote");
        engine.unstage(sized, staging);
        VolumeRecord sharer = volume("vol-sharer", "sized", 32 * MIB, Map.of()); // names the same directory
        engine.create(sharer);
        assertEquals(Map.of(SizeLimit.ATTRIBUTE, ProjectQuota.name(type)), engine.attributes(sharer),
                "a volume that names a limited directory shares its limit");

        VolumeRecord free = volume("free", 32 * MIB, Map.of(SizeLimit.PARAMETER, SizeLimit.NONE));
        engine.create(free);
        assertEquals(Map.of(SizeLimit.ATTRIBUTE, SizeLimit.NONE), engine.attributes(free));
        Files.createDirectories(root.resolve("before"));
        VolumeRecord before = volume("before", 32 * MIB, Map.of());
        engine.create(before);
        assertEquals(Map.of(SizeLimit.ATTRIBUTE, SizeLimit.NONE), engine.attributes(before),
                "a directory that was there before is not Strata's to limit");
        assertTrue(writeAsAPod(runner, root.resolve("free/big"), 48).ok(), "an opted-out volume shares the space");

        engine.delete(sized.id());
        assertTrue(Files.isDirectory(root.resolve("sized")), "the directory stays with the volume sharing it");
        assertEquals(Map.of(SizeLimit.ATTRIBUTE, ProjectQuota.name(type)), engine.attributes(sharer),
                "its limit too");
        for (VolumeRecord v : List.of(sharer, free, before)) {
            engine.delete(v.id());
        }
        assertFalse(Files.exists(root.resolve("sized")), "Strata made the directory, so delete removes it");
        assertTrue(Files.isDirectory(root.resolve("before")), "the directory that was there before stays");
        assertEquals(List.of(), MountTable.read().under(scratch.dir().resolve("engine")), "mounts left");
        engine.close();
    }
}
