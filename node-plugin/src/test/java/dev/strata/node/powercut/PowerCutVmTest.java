package dev.strata.node.powercut;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.Ids;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.thin.ThinPoolConfig;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.storage.LocalStorage;
import dev.strata.node.storage.NodeStorage;
import dev.strata.node.storage.StorageConfig;
import dev.strata.node.storage.StorageOpener;
import dev.strata.node.sys.DeviceMapper;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cuts the power under the driver's storage, for real (issue 15): the data directory is an ext4 on a
 * dm-log-writes device, which logs every write that reached the disk, with its flushes, and a mark
 * after each operation the driver acknowledged. A workload creates, writes, snapshots while a writer
 * appends, restores, clones and deletes. Then a prefix of the log is replayed onto a copy of the disk
 * as it was at the start, at points drawn from its flushes, FUA writes and acknowledgements, and the
 * driver's storage is opened on each such disk as it would be after the machine came back:
 * <ul>
 * <li>nothing acknowledged is lost: every volume and snapshot acknowledged before the cut is there,
 * READY, with the data that was acknowledged (snapshots restored to check); nothing acknowledged as
 * deleted is back;
 * <li>what was in flight at the cut is either there whole or not there;
 * <li>recovery leaves no storage without a record, no layer a chain needs is missing, no problem.
 * </ul>
 * A run checks {@code strata.powercut.cuts} cut points per engine (default 4; under emulation a cut is
 * checked in 3 to 10 s, a thin one in 20 to 40 s), drawn by {@link CutPoints} with the seed
 * {@code strata.powercut.seed} (default: a new one each run, printed, and named in every failure, so that
 * {@code -Dstrata.powercut.seed=S} repeats a run); the figures of a run go to
 * {@code target/powercut-ENGINE.txt}.
 * Run it: {@code mvn -B -o -pl node-plugin -am verify -Dvm.tests=PowerCutVmTest -Dtest=NoSuchTest
 * -Dsurefire.failIfNoSpecifiedTests=false} (add {@code -Dstrata.powercut.engines=dir} for one engine).
 */
@Tag("vm")
@Timeout(3600)
class PowerCutVmTest {
    private static final long MIB = 1L << 20;
    private static final int CUTS = Integer.getInteger("strata.powercut.cuts", 4);
    private static final long SEED = Long.getLong("strata.powercut.seed", new java.security.SecureRandom().nextLong());

    @TempDir
    Path tmp;

    private final Mounter mounter = new Mounter();
    private final CommandRunner runner = new CommandRunner();

    /** What is expected of a volume or snapshot: absent, or present with (at least) these files. */
    private record Expected(boolean present, Map<String, String> files, int logLinesAtLeast) {
        static final Expected ABSENT = new Expected(false, Map.of(), 0);

        static Expected with(Map<String, String> files) {
            return new Expected(true, Map.copyOf(files), 0);
        }
    }

    /** One acknowledged operation: the mark after it, what it touched, and the state it left. */
    private record Step(String mark, Set<String> touched, Map<String, Expected> state) {}

    /** The engines to cut under: every one that runs in the VM ({@code strata.powercut.engines} narrows them). */
    static java.util.stream.Stream<String> engines() {
        return java.util.Arrays.stream(System.getProperty("strata.powercut.engines", "dir,hostpath,overlay,thin")
                .split(","));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aPowerCutAnywhereLosesNothingAcknowledgedAndLeavesNothingBehind(String engine) throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: loop devices, device-mapper, mounts");
        Assumptions.assumeTrue(DeviceMapper.available(),
                "needs device-mapper (dm-log-writes, dm-snapshot): run it in the VM, vm/README.md");
        try (PowerCutRig rig = new PowerCutRig(tmp)) {
            rig.start(768 * MIB);
            StorageConfig config = config(rig.mountPoint(), engine);
            long started = System.nanoTime();
            List<Step> steps = workload(rig, config, engine);
            WriteLog log = rig.stop();
            double workloadSeconds = (System.nanoTime() - started) / 1e9;
            List<WriteLog.Entry> cuts = CutPoints.draw(log.entries(), CUTS, SEED);
            System.out.printf("[powercut] %s: seed %d, cut points %s%n", engine, SEED,
                    cuts.stream().map(WriteLog.Entry::index).toList());
            started = System.nanoTime();
            int replayed = 0;
            try (FileChannel disk = rig.replayDisk()) {
                for (WriteLog.Entry cut : cuts) {
                    log.replay(disk, replayed, cut.index() + 1);
                    replayed = cut.index() + 1;
                    disk.force(true);
                    rig.mountCut();
                    Throwable failure = null;
                    try {
                        check(config, engine, steps, ackedBefore(log, steps, cut.index()), cut);
                    } catch (Exception | AssertionError e) {
                        failure = e;
                        throw e;
                    } finally {
                        try {
                            teardownStorage(rig.mountPoint());
                            rig.dropCut();
                        } catch (Exception e) {
                            if (failure == null) {
                                throw e;
                            }
                            failure.addSuppressed(e); // the check's failure is the news
                        }
                    }
                }
            }
            Files.writeString(Path.of("target").resolve("powercut-" + engine + ".txt"), String.format(
                    "engine=%s log_entries=%d cut_points_checked=%d (of %d flush, FUA and mark points) seed=%d "
                            + "cuts=%s workload_s=%.1f checks_s=%.1f%n", engine, log.entries().size(), cuts.size(),
                    log.entries().stream().filter(WriteLog.Entry::isCutPoint).count(), SEED,
                    cuts.stream().map(WriteLog.Entry::index).toList(), workloadSeconds,
                    (System.nanoTime() - started) / 1e9));
        }
    }

    private StorageConfig config(Path mount, String engine) throws IOException {
        Files.createDirectories(mount.resolve("host"));
        ThinPoolConfig pool = engine.equals("thin") ? ThinPoolConfig.files(mount.resolve("pool"), 256 * MIB, 4) : null;
        return new StorageConfig(mount.resolve("data"), "vm", engine, 64 * MIB, 16, List.of(mount.resolve("host")),
                pool);
    }

    // ---- the workload ---------------------------------------------------------------------------

    private List<Step> workload(PowerCutRig rig, StorageConfig config, String engine) throws Exception {
        List<Step> steps = new ArrayList<>();
        Map<String, Expected> world = new LinkedHashMap<>();
        NodeStorage opened = StorageOpener.open(config, mounter);
        LocalStorage storage = opened.provisioner();
        try {
            storage.createVolume(spec("v1", null));
            ack(rig, steps, world, "create v1", Map.of("v1", Expected.with(Map.of())));
            VolumeRecord v1 = storage.findVolume(Ids.volumeId("v1")).orElseThrow();
            Path live = stage(opened, v1, "v1-live");
            write(live.resolve("a"), "alpha");
            ack(rig, steps, world, "write v1", Map.of("v1", Expected.with(Map.of("a", "alpha"))));
            storage.createSnapshot("s1", v1.id(), Map.of(), Secrets.NONE);
            ack(rig, steps, world, "snapshot s1", Map.of("snap:s1", Expected.with(Map.of("a", "alpha"))));
            write(live.resolve("a"), "beta");
            write(live.resolve("b"), "bravo");
            ack(rig, steps, world, "rewrite v1", Map.of("v1", Expected.with(Map.of("a", "beta", "b", "bravo"))));
            storage.createVolume(spec("r1", ContentSource.snapshot(Ids.snapshotId("s1"))));
            ack(rig, steps, world, "restore r1", Map.of("r1", Expected.with(Map.of("a", "alpha"))));
            storage.createVolume(spec("c1", ContentSource.volume(v1.id())));
            ack(rig, steps, world, "clone c1", Map.of("c1", Expected.with(Map.of("a", "beta", "b", "bravo"))));
            storage.deleteVolume(Ids.volumeId("r1"));
            ack(rig, steps, world, "delete r1", Map.of("r1", Expected.ABSENT));
            int acknowledgedLines = snapshotWhileAppending(storage, v1, live.resolve("log"));
            ack(rig, steps, world, "snapshot s2", Map.of("snap:s2",
                    new Expected(true, Map.of("a", "beta", "b", "bravo"), acknowledgedLines)));
            storage.deleteSnapshot(Ids.snapshotId("s1"), Secrets.NONE);
            ack(rig, steps, world, "delete s1", Map.of("snap:s1", Expected.ABSENT));
            opened.engines().get(engine).unstage(v1, live);
        } finally {
            opened.close();
            teardownStorage(rig.mountPoint());
        }
        return steps;
    }

    /** Marks the log after an acknowledged operation and notes what it left. */
    private static void ack(PowerCutRig rig, List<Step> steps, Map<String, Expected> world, String what,
            Map<String, Expected> changes) throws IOException {
        world.putAll(changes);
        String mark = CutPoints.ACKNOWLEDGEMENT + steps.size();
        rig.mark(mark);
        steps.add(new Step(mark, changes.keySet(), Map.copyOf(new HashMap<>(world))));
    }

    /** Snapshots v1 while a writer appends numbered lines, each synced; returns the lines synced before. */
    private static int snapshotWhileAppending(LocalStorage storage, VolumeRecord v1, Path log) throws Exception {
        AtomicInteger synced = new AtomicInteger();
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            try (FileChannel ch = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                for (int i = 0; writing.get(); i++) {
                    ch.write(ByteBuffer.wrap(("line-" + i + "\n").getBytes(StandardCharsets.UTF_8)));
                    ch.force(false);
                    synced.incrementAndGet();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "appender");
        writer.start();
        while (synced.get() < 20) {
            Thread.sleep(10);
        }
        int before = synced.get();
        storage.createSnapshot("s2", v1.id(), Map.of(), Secrets.NONE);
        writing.set(false);
        writer.join();
        return before;
    }

    // ---- a check after a cut --------------------------------------------------------------------

    /** The steps whose acknowledgement reached the log before entry {@code cut}. */
    private static int ackedBefore(WriteLog log, List<Step> steps, int cut) {
        int acked = 0;
        for (WriteLog.Entry e : log.entries().subList(0, cut + 1)) {
            if (e.mark() != null && acked < steps.size() && e.mark().equals(steps.get(acked).mark())) {
                acked++;
            }
        }
        return acked;
    }

    private void check(StorageConfig config, String engine, List<Step> steps, int acked, WriteLog.Entry cut)
            throws Exception {
        String where = "after a power cut at log entry " + cut.index() + " (" + acked
                + " operations acknowledged; -Dstrata.powercut.seed=" + SEED + " repeats the run)";
        NodeStorage opened = StorageOpener.open(config, mounter);
        LocalStorage storage = opened.provisioner();
        try {
            Map<String, Expected> state = acked == 0 ? Map.of() : steps.get(acked - 1).state();
            Set<String> inFlight = acked < steps.size() ? steps.get(acked).touched() : Set.of();
            for (Map.Entry<String, Expected> e : state.entrySet()) {
                if (!inFlight.contains(e.getKey())) {
                    checkObject(opened, engine, e.getKey(), e.getValue(), where);
                }
            }
            // Whatever is there was made whole: every volume READY and healthy, every snapshot restorable.
            for (VolumeRecord v : storage.listVolumes()) {
                assertFalse(storage.health(v.id()).abnormal(), where + ": " + v.name() + " " + storage.health(v.id()));
            }
            noOrphans(opened, config, engine, where);
        } finally {
            opened.close();
        }
    }

    private void checkObject(NodeStorage opened, String engine, String name, Expected expected, String where)
            throws Exception {
        LocalStorage storage = opened.provisioner();
        boolean snapshot = name.startsWith("snap:");
        String id = snapshot ? Ids.snapshotId(name.substring(5)) : Ids.volumeId(name);
        boolean present = snapshot ? storage.findSnapshot(id).isPresent() : storage.findVolume(id).isPresent();
        assertEquals(expected.present(), present, where + ": " + name + (expected.present() ? " was lost" : " came back"));
        if (!present) {
            return;
        }
        VolumeRecord volume = snapshot
                ? storage.createVolume(spec("check-" + name.substring(5), ContentSource.snapshot(id)))
                : storage.findVolume(id).orElseThrow();
        Path view = stage(opened, volume, "check-" + name.replace(':', '-'));
        try {
            for (Map.Entry<String, String> f : expected.files().entrySet()) {
                assertEquals(f.getValue(), Files.readString(view.resolve(f.getKey())), where + ": " + name + "/"
                        + f.getKey());
            }
            if (expected.logLinesAtLeast() > 0) {
                List<String> lines = Files.readAllLines(view.resolve("log"));
                assertTrue(lines.size() >= expected.logLinesAtLeast(), where + ": " + name + " holds " + lines.size()
                        + " lines of the log, " + expected.logLinesAtLeast() + " were synced before it was taken");
                for (int i = 0; i < lines.size(); i++) {
                    assertEquals("line-" + i, lines.get(i), where + ": " + name + "/log line " + i);
                }
            }
        } finally {
            mounter.detach(view); // what the check read is closed; a lazy unmount does not wait for the kernel
            if (snapshot) {
                storage.deleteVolume(volume.id());
            }
        }
    }

    /** After recovery: no storage without a record, and every layer a chain names is there. */
    private static void noOrphans(NodeStorage opened, StorageConfig config, String engine, String where)
            throws IOException {
        LocalStorage storage = opened.provisioner();
        VolumeEngine e = opened.engines().get(engine);
        Set<String> volumes = new java.util.HashSet<>();
        storage.listVolumes().forEach(v -> volumes.add(v.id()));
        Set<String> snapshots = new java.util.HashSet<>();
        storage.listSnapshots().forEach(s -> snapshots.add(s.id()));
        assertEquals(volumes, e.storedVolumeIds(), where + ": volume storage and records");
        assertEquals(snapshots, e.storedSnapshotIds(), where + ": snapshot storage and records");
        if (engine.equals("overlay")) {
            Path root = config.dataDir().resolve("engines/overlay");
            Set<String> layers = new java.util.HashSet<>();
            try (var list = Files.list(root.resolve("layers"))) {
                list.forEach(p -> layers.add(p.getFileName().toString()));
            }
            for (Path chain : chains(root)) {
                for (String layer : Files.readAllLines(chain)) {
                    assertTrue(layer.isBlank() || layers.contains(layer), where + ": " + chain + " names layer "
                            + layer + ", which is gone");
                }
            }
        }
    }

    private static List<Path> chains(Path overlayRoot) throws IOException {
        List<Path> chains = new ArrayList<>();
        try (var snaps = Files.list(overlayRoot.resolve("snapshots")); var vols = Files.list(overlayRoot.resolve("volumes"))) {
            snaps.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".tmp"))
                    .forEach(chains::add);
            vols.map(v -> v.resolve("chain")).filter(Files::isRegularFile).forEach(chains::add);
        }
        return chains;
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static VolumeSpec spec(String name, ContentSource source) {
        return new VolumeSpec(name, 64 * MIB, 0, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(),
                Map.of(), source, List.of());
    }

    /** Mounts the volume where a test reads and writes it (outside the filesystem under test). */
    private Path stage(NodeStorage opened, VolumeRecord volume, String name) throws IOException {
        Path mountPoint = Files.createDirectories(tmp.resolve("stage").resolve(name));
        opened.engines().get(volume.engine()).stage(volume, mountPoint, BindOptions.NONE);
        return mountPoint;
    }

    /** A tenant's write that returned: the file's data synced. */
    private static void write(Path file, String text) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
    }

    /** Stops what storage left running on the disk under test: mounts, the thin pool's devices and loops. */
    private void teardownStorage(Path mount) throws IOException {
        for (Path p : MountTable.read().under(tmp.resolve("stage"))) {
            mounter.detach(p);
        }
        for (String name : runner.run("dmsetup", "ls").stdout().lines().map(l -> l.split("\\s+")[0]).toList()) {
            if (name.startsWith("strata-") && !name.equals("strata-pool")) {
                runner.run("dmsetup", "--verifyudev", "remove", "--retry", name);
            }
        }
        runner.run("dmsetup", "--verifyudev", "remove", "--retry", "strata-pool");
        for (String f : List.of("data", "metadata")) {
            String loop = runner.run("losetup", "-j", mount.resolve("pool").resolve(f).toString(), "-n", "-O", "NAME")
                    .stdout().strip();
            loop.lines().forEach(l -> runner.run("losetup", "-d", l));
        }
    }
}
