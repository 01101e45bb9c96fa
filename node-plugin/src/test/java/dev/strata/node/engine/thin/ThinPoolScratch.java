package dev.strata.node.engine.thin;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.DeviceMapper;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * A dm-thin pool on two sparse loop files under a test's temporary directory, for the VM's tests,
 * and the removal of all it made: mounts, LUKS mappings, thin devices, the pool, the loop devices.
 */
public final class ThinPoolScratch {
    public static final long MIB = 1L << 20;

    public final CommandRunner runner = new CommandRunner();
    public final Mounter mounter = new Mounter();
    private final Path tmp;
    final Path root;

    /** Skips the test unless it runs as root with device-mapper (in the VM). */
    public ThinPoolScratch(Path tmp) throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: device-mapper and loop devices");
        Assumptions.assumeTrue(DeviceMapper.available(),
                "needs device-mapper (/dev/mapper/control): run it in the VM, vm/README.md");
        this.tmp = tmp.toRealPath();
        this.root = this.tmp.resolve("thin");
    }

    public ThinEngine open(long poolBytes, double overcommit) throws IOException {
        return open(poolBytes, overcommit, runner);
    }

    /** An engine that runs its host commands through {@code commands} (one that fails a step, say). */
    public ThinEngine open(long poolBytes, double overcommit, CommandRunner commands) throws IOException {
        ThinEngine e = new ThinEngine(root, ThinPoolConfig.files(root.resolve("pool"), poolBytes, overcommit),
                mounter, commands);
        e.start();
        return e;
    }

    public void removeEverything() throws IOException {
        for (Path p : MountTable.read().under(tmp)) {
            mounter.detach(p);
        }
        Dmsetup dm = new Dmsetup(runner);
        for (String target : List.of("crypt", "thin")) {
            for (String name : dm.list(target)) {
                runner.run("dmsetup", "--verifyudev", "remove", "--retry", name);
            }
        }
        runner.run("dmsetup", "--verifyudev", "remove", "--retry", ThinPool.NAME);
        for (String f : List.of("data", "metadata")) {
            String loop = runner.run("losetup", "-j", root.resolve("pool").resolve(f).toString(), "-n", "-O", "NAME")
                    .stdout().strip();
            if (!loop.isEmpty()) {
                runner.run("losetup", "-d", loop);
            }
        }
    }

    static VolumeRecord volume(String id, long bytes, AccessType type, ContentSource source,
            Map<String, String> parameters) {
        return new VolumeRecord(id, id, ThinEngine.NAME, bytes, type, parameters, Map.of(), source, "node",
                List.of(), RecordState.CREATING, Instant.now(), Map.of());
    }

    static SnapshotRecord snapshot(String id, String volumeId) {
        return new SnapshotRecord(id, id, volumeId, ThinEngine.NAME, 0, null, RecordState.CREATING, Instant.now());
    }
}
