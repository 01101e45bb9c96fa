package dev.strata.cli;

import dev.strata.common.VolumeContext;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.common.model.Ids;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.VolumeCapability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.strata.cli.Cli.Result;
import picocli.CommandLine;

/** Runs stratactl's commands, as main would, against {@link FakeCsiPlugin} on a Unix socket. */
class StrataCtlTest {
    /** What kubelet does with an attachRequired=false driver: no ControllerPublish. */
    private static final List<String> LIFECYCLE = List.of("CreateVolume", "NodeStageVolume", "NodePublishVolume",
            "NodeUnpublishVolume", "NodeUnstageVolume", "DeleteVolume");
    private static final List<String> LIFECYCLE_ATTACHED = List.of("CreateVolume", "ControllerPublishVolume",
            "NodeStageVolume", "NodePublishVolume", "NodeUnpublishVolume", "NodeUnstageVolume",
            "ControllerUnpublishVolume", "DeleteVolume");

    @TempDir
    Path tmp;
    Path socket;
    FakeCsiPlugin plugin;

    Cli cli;

    @BeforeEach
    void start() throws Exception {
        socket = tmp.resolve("csi.sock");
        plugin = new FakeCsiPlugin(socket);
        cli = new Cli(socket);
    }

    @AfterEach
    void stop() throws Exception {
        plugin.close();
    }

    private Result run(String... args) {
        return cli.run(args);
    }

    private static Result runRaw(String... args) {
        return Cli.runRaw(args);
    }

    private static void assertOk(Result r) {
        Cli.assertOk(r);
    }

    private String create(String name, String... extra) {
        List<String> args = new ArrayList<>(List.of("volume", "create", name));
        args.addAll(List.of(extra));
        Result r = run(args.toArray(String[]::new));
        assertOk(r);
        return r.out().strip();
    }

    @Test
    void volumeCreateLsInspectRm() throws Exception {
        String id = create("data", "--size", "2Gi", "--param", "tier=fast");
        assertEquals(Ids.volumeId("data"), id);
        CreateVolumeRequest req = plugin.createRequests.get(id);
        assertEquals(2L << 30, req.getCapacityRange().getRequiredBytes());
        assertEquals("fast", req.getParametersOrThrow("tier"));
        VolumeCapability cap = req.getVolumeCapabilities(0);
        assertTrue(cap.hasMount());
        assertEquals(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER, cap.getAccessMode().getMode());
        for (String n : List.of("v1", "v2", "v3", "v4")) {
            create(n, "--size", "1Mi");
        }

        Result ls = run("volume", "ls");
        assertOk(ls);
        assertEquals(6, ls.lines().size(), ls.out()); // header + 5, across three pages
        assertTrue(ls.lines().get(0).matches("NAME\\s+VOLUME ID\\s+SIZE\\s+ENGINE"), ls.out());
        assertTrue(ls.lines().stream().anyMatch(l -> l.matches("data\\s+" + id + "\\s+2Gi\\s+fake")), ls.out());
        Result quiet = run("volume", "ls", "-q");
        assertOk(quiet);
        assertEquals(new HashSet<>(plugin.volumes.keySet()), new HashSet<>(quiet.lines()));

        Result inspect = run("volume", "inspect", "data");
        assertOk(inspect);
        JsonNode json = new ObjectMapper().readTree(inspect.out());
        assertEquals(1, json.size());
        JsonNode v = json.get(0);
        assertEquals("data", v.get("Name").asText());
        assertEquals(id, v.get("Id").asText());
        assertEquals(FakeCsiPlugin.DRIVER, v.get("Driver").asText());
        assertEquals(2L << 30, v.get("CapacityBytes").asLong());
        assertEquals("local", v.get("Scope").asText());
        assertEquals("fake", v.get("Options").get(VolumeContext.ENGINE).asText());
        assertTrue(v.get("ContentSource").isNull());
        assertEquals(0, v.get("Status").get("PublishedNodeIds").size());
        assertEquals("ok", v.get("Status").get("VolumeCondition").get("Message").asText());

        Result partly = run("volume", "inspect", "v1", "nope");
        assertEquals(1, partly.code());
        assertEquals(1, new ObjectMapper().readTree(partly.out()).size());
        assertEquals("stratactl: no such volume: nope\n", partly.err());

        Result rm = run("volume", "rm", "data", "v1");
        assertOk(rm);
        assertEquals(List.of("data", "v1"), rm.lines());
        assertFalse(plugin.volumes.containsKey(id));
        assertFalse(plugin.volumes.containsKey(Ids.volumeId("v1")));
        assertEquals(3, plugin.volumes.size());
    }

    @Test
    void namesResolveByContextNameIdOrDerivedId() throws Exception {
        String named = create("named");
        String anonymous = create("anon", "--param", "anonymous=true"); // no name in its volume_context

        // By ID, and by the name Strata derives an ID from when volume_context carries no name.
        Result byId = run("volume", "inspect", named);
        assertOk(byId);
        assertEquals("named", new ObjectMapper().readTree(byId.out()).get(0).get("Name").asText());
        Result byDerived = run("volume", "inspect", "anon");
        assertOk(byDerived);
        assertEquals(anonymous, new ObjectMapper().readTree(byDerived.out()).get(0).get("Id").asText());

        String clone = create("clone", "--from-volume", "named");
        assertEquals(named, plugin.createRequests.get(clone).getVolumeContentSource().getVolume().getVolumeId());
        Result snap = run("snapshot", "create", "anon", "--name", "s1");
        assertOk(snap);
        assertEquals(anonymous, plugin.snapshots.get(snap.out().strip()).getSourceVolumeId());
        String restored = create("restored", "--from-snapshot", "s1", "--block", "--access-mode",
                "multi-node-reader-only");
        CreateVolumeRequest req = plugin.createRequests.get(restored);
        assertEquals(Ids.snapshotId("s1"), req.getVolumeContentSource().getSnapshot().getSnapshotId());
        assertTrue(req.getVolumeCapabilities(0).hasBlock());
        assertEquals(VolumeCapability.AccessMode.Mode.MULTI_NODE_READER_ONLY,
                req.getVolumeCapabilities(0).getAccessMode().getMode());
        JsonNode source = new ObjectMapper().readTree(run("volume", "inspect", "restored").out()).get(0)
                .get("ContentSource");
        assertEquals(Ids.snapshotId("s1"), source.get("Snapshot").asText());

        Result missing = run("volume", "create", "xx", "--from-volume", "ghost");
        assertEquals(1, missing.code());
        assertEquals("stratactl: no such volume: ghost\n", missing.err());
        Result rmById = run("volume", "rm", anonymous);
        assertOk(rmById);
        assertFalse(plugin.volumes.containsKey(anonymous));
    }

    @Test
    void snapshotCreateLsRm() {
        create("src", "--size", "1Gi");
        for (String name : List.of("s1", "s2", "s3")) {
            Result r = run("snapshot", "create", "src", "--name", name);
            assertOk(r);
            assertEquals(Ids.snapshotId(name), r.out().strip());
        }
        Result ls = run("snapshot", "ls");
        assertOk(ls);
        assertEquals(4, ls.lines().size(), ls.out());
        assertTrue(ls.lines().get(0).matches("NAME\\s+SNAPSHOT ID\\s+SOURCE VOLUME\\s+SIZE\\s+CREATED\\s+READY"),
                ls.out());
        // a driver that keeps no records stratactl can read: CSI lists no names
        assertTrue(ls.lines().stream().anyMatch(l -> l.matches("-\\s+" + Ids.snapshotId("s1") + "\\s+"
                + Ids.volumeId("src") + "\\s+1Gi\\s+2023-11-14T22:13:20Z\\s+true")), ls.out());

        Result rm = run("snapshot", "rm", "s1", Ids.snapshotId("s2"));
        assertOk(rm);
        assertEquals(List.of("s1", Ids.snapshotId("s2")), rm.lines());
        assertEquals(Set.of(Ids.snapshotId("s3")), plugin.snapshots.keySet());

        Result missing = run("snapshot", "rm", "nope", "s3");
        assertEquals(1, missing.code());
        assertEquals("stratactl: no such snapshot: nope\n", missing.err());
        assertEquals("s3\n", missing.out());
        assertTrue(plugin.snapshots.isEmpty());
    }

    @Test
    void serverErrorIsOneLineAndExitOne() {
        Result r = run("volume", "create", "boom", "--param", "fail=RESOURCE_EXHAUSTED");
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertEquals("stratactl: RESOURCE_EXHAUSTED: injected failure\n", r.err());
    }

    /**
     * A restore from a backup can outlast one call's deadline: stratactl sends the same CreateVolume
     * again, as a CO does, through the deadline and the ABORTED answers of the restore still running,
     * until the volume is there.
     */
    @Test
    void aRestoreThatOutlastsTheDeadlineIsWaitedForTheWayACoWaits() {
        Result r = run("volume", "create", "big", "--timeout", "1", "--from-backup", "file:///t#snap-1",
                "--param", "restoreMillis=2500");
        assertOk(r);
        assertEquals(Ids.volumeId("big") + "\n", r.out());
        long creates = plugin.calls.stream().filter(c -> c.startsWith("CreateVolume")).count();
        assertTrue(creates >= 2, "asked again after the deadline: " + plugin.calls);
        assertEquals("file:///t#snap-1", plugin.createRequests.get(Ids.volumeId("big")).getParametersMap()
                .get("fromBackup"));
    }

    @Test
    void missingSocketIsALocalError() {
        Result r = runRaw("--endpoint", "unix://" + tmp.resolve("nothing.sock"), "volume", "ls");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("stratactl: no CSI socket at " + tmp.resolve("nothing.sock")), r.err());
        assertEquals(1, r.err().lines().count());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run("volume", "create", "xx", "--size", "12Q").code());
        assertEquals(2, run("volume", "create", "xx", "--access-mode", "sometimes").code());
        assertEquals(2, run("volume").code());
        assertEquals(2, run("volume", "create", "xx", "--from-volume", "aa", "--from-snapshot", "bb").code());
        assertEquals(2, run("bench", "lifecycle", "--volumes", "0").code());
        assertEquals(2, run("bench", "lifecycle", "--warmup", "-1").code());
        assertTrue(plugin.volumes.isEmpty());
        assertTrue(plugin.createRequests.isEmpty());
    }

    @Test
    void globalOptionsMayFollowTheSubcommand() {
        create("late");
        Result r = runRaw("volume", "ls", "-q", "--timeout", "5", "--endpoint", "unix://" + socket);
        assertOk(r);
        assertEquals(List.of(Ids.volumeId("late")), r.lines());
    }

    @Test
    void globalOptionsAreNotResetBySubcommandDefaults() {
        StrataCtl before = new StrataCtl();
        new CommandLine(before).parseArgs("--timeout", "5", "volume", "ls");
        assertEquals(5, before.timeoutSeconds);
        StrataCtl after = new StrataCtl();
        new CommandLine(after).parseArgs("volume", "ls", "--timeout", "7");
        assertEquals(7, after.timeoutSeconds);
    }

    @Test
    void benchLifecycle() throws Exception {
        assertBench(LIFECYCLE);
    }

    @Test
    void benchLifecycleWithAttach() throws Exception {
        assertBench(LIFECYCLE_ATTACHED, "--attach");
    }

    private void assertBench(List<String> expected, String... extra) throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        List<String> args = new java.util.ArrayList<>(List.of("bench", "lifecycle", "--volumes", "20", "--concurrency", "4",
                "--workdir", work.toString()));
        args.addAll(List.of(extra));
        Result r = run(args.toArray(String[]::new));
        assertOk(r);
        List<String> lines = r.lines();
        assertTrue(lines.get(lines.size() - 1)
                .matches("lifecycle ops_per_s=\\d+\\.\\d\\d p50_ms=\\d+\\.\\d\\d p99_ms=\\d+\\.\\d\\d errors=0"), r.out());
        for (String method : expected) {
            assertTrue(lines.stream().anyMatch(l -> l.matches("rpc=" + method
                    + " calls=20 p50_ms=\\d+\\.\\d\\d p99_ms=\\d+\\.\\d\\d")), method + " in " + r.out());
        }
        Set<String> volumeIds = new HashSet<>();
        synchronized (plugin.calls) {
            plugin.calls.stream().filter(c -> c.startsWith("CreateVolume ")).forEach(c -> volumeIds.add(c.split(" ")[1]));
        }
        assertEquals(20, volumeIds.size());
        for (String id : volumeIds) {
            assertEquals(expected, plugin.callsFor(id), id);
        }
        assertTrue(plugin.volumes.isEmpty());
        try (Stream<Path> left = Files.list(work)) {
            assertEquals(List.of(), left.toList(), "the run directory is removed");
        }
    }

    @Test
    void benchWarmsUpWithVolumesItDoesNotMeasure() throws Exception {
        Result r = run("bench", "lifecycle", "--volumes", "5", "--warmup", "3", "--concurrency", "2");
        assertOk(r);
        List<String> lines = r.lines();
        assertTrue(lines.get(0).matches("warmup volumes=3 ops_per_s=\\d+\\.\\d\\d errors=0"), r.out());
        assertTrue(lines.stream().filter(l -> l.startsWith("rpc=")).allMatch(l -> l.contains(" calls=5 ")), r.out());
        assertEquals(8, plugin.createRequests.size(), "three warm-up volumes and five measured");
        for (String id : plugin.createRequests.keySet()) {
            assertEquals(LIFECYCLE, plugin.callsFor(id), id);
        }
        assertTrue(plugin.volumes.isEmpty());
    }

    @Test
    void aFailedWarmUpCallCountsInTheErrors() throws Exception {
        plugin.failingMethods.add("NodePublishVolume");
        Result r = run("bench", "lifecycle", "--volumes", "2", "--warmup", "1");
        assertEquals(1, r.code());
        assertTrue(r.lines().get(0).endsWith(" errors=1"), r.out());
        assertTrue(r.lines().get(r.lines().size() - 1).endsWith(" errors=3"), r.out());
        assertTrue(plugin.volumes.isEmpty());
    }

    @Test
    void benchSkipsCallsThePluginHasNoCapabilityFor() throws Exception {
        plugin.close();
        Files.deleteIfExists(socket);
        plugin = new FakeCsiPlugin(socket, false);
        Result r = run("bench", "lifecycle", "--volumes", "6", "--concurrency", "3");
        assertOk(r);
        assertEquals(5, r.lines().size(), r.out()); // four RPC lines and the summary
        for (String id : plugin.createRequests.keySet()) {
            assertEquals(List.of("CreateVolume", "NodePublishVolume", "NodeUnpublishVolume", "DeleteVolume"),
                    plugin.callsFor(id), id);
        }
        assertFalse(plugin.calls.contains("NodeGetInfo "), "no node ID needed without ControllerPublishVolume");
    }

    @Test
    void benchCleansUpAfterAFailedCallAndCountsIt() throws Exception {
        plugin.failingMethods.add("NodeStageVolume");
        Path work = Files.createDirectories(tmp.resolve("work"));
        Result r = run("bench", "lifecycle", "--volumes", "5", "--concurrency", "2", "--attach", "--workdir",
                work.toString());
        assertEquals(1, r.code());
        assertTrue(r.lines().get(r.lines().size() - 1).endsWith(" errors=5"), r.out());
        assertEquals(5, r.err().lines().count(), r.err());
        assertTrue(r.err().lines().allMatch(l -> l.matches(
                "stratactl: bench-\\w+-\\d: NodeStageVolume: INTERNAL: injected failure")), r.err());
        for (String id : plugin.createRequests.keySet()) {
            assertEquals(List.of("CreateVolume", "ControllerPublishVolume", "NodeStageVolume", "NodeUnstageVolume",
                    "ControllerUnpublishVolume", "DeleteVolume"), plugin.callsFor(id), id);
        }
        assertTrue(plugin.volumes.isEmpty());
        try (Stream<Path> left = Files.list(work)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void mountAndUmountKeepAPublicationRecord() throws Exception {
        String id = create("vol");
        Path state = tmp.resolve("state");
        Path pod = Files.createDirectories(tmp.resolve("pods"));
        Path t1 = pod.resolve("t1");
        Path t2 = pod.resolve("t2");
        Path record = state.resolve("publications").resolve(id);
        Path staging = state.resolve("staging").resolve(id);

        assertOk(run("mount", "vol", t1.toString(), "--state-dir", state.toString()));
        assertEquals(List.of("ControllerPublishVolume", "NodeStageVolume", "NodePublishVolume"), callsSince(id, 1));
        assertEquals(List.of(t1.toString()), Files.readAllLines(record));
        assertTrue(Files.isDirectory(staging));
        assertTrue(Files.isDirectory(t1), "the driver created the target");
        assertEquals(Set.of(FakeCsiPlugin.NODE_ID), plugin.attachments.get(id));

        assertOk(run("mount", "vol", t2.toString(), "--ro", "--state-dir", state.toString()));
        assertEquals(List.of(t1.toString(), t2.toString()), Files.readAllLines(record));

        assertOk(run("umount", "vol", t1.toString(), "--state-dir", state.toString()));
        assertEquals(List.of("NodeUnpublishVolume"), callsSince(id, 7));
        assertEquals(List.of(t2.toString()), Files.readAllLines(record));
        assertTrue(Files.isDirectory(staging));

        assertOk(run("umount", "vol", t2.toString(), "--state-dir", state.toString()));
        assertEquals(List.of("NodeUnpublishVolume", "NodeUnstageVolume", "ControllerUnpublishVolume"),
                callsSince(id, 8));
        assertFalse(Files.exists(record));
        assertFalse(Files.exists(staging));
        assertTrue(plugin.attachments.get(id).isEmpty());

        Result noParent = run("mount", "vol", tmp.resolve("no/such/t").toString(), "--state-dir", state.toString());
        assertEquals(1, noParent.code());
        assertEquals("stratactl: parent directory of " + tmp.resolve("no/such/t") + " does not exist\n",
                noParent.err());
    }

    /** The volume's calls from the n-th on (0 is CreateVolume). */
    private List<String> callsSince(String volumeId, int n) {
        List<String> all = plugin.callsFor(volumeId).stream().filter(c -> !c.equals("ControllerGetVolume")).toList();
        return all.subList(n, all.size());
    }
}
