package dev.strata.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.cli.Cli.Result;
import dev.strata.common.model.Ids;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a driver that keeps records as Strata does and names them in its manifest: a client that
 * knows nothing of an earlier one (another state directory, as after a crash) unmounts and removes
 * what that one left, is told when a path is not mounted, and lists snapshot names.
 */
class DriverRecordsTest {
    @TempDir
    Path tmp;
    FakeCsiPlugin plugin;
    Cli cli;
    Path pods;
    String id;

    @BeforeEach
    void start() throws Exception {
        plugin = new FakeCsiPlugin(tmp.resolve("csi.sock"), true, tmp.resolve("data"));
        cli = new Cli(tmp.resolve("csi.sock"));
        pods = Files.createDirectories(tmp.resolve("pods"));
        Cli.assertOk(cli.run("volume", "create", "web"));
        id = Ids.volumeId("web");
    }

    @AfterEach
    void stop() throws Exception {
        plugin.close();
    }

    /** stratactl as a client whose state directory is {@code name} (a new one knows nothing of the others). */
    private Result as(String client, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--state-dir", tmp.resolve(client).toString()));
        return cli.run(all.toArray(String[]::new));
    }

    @Test
    void anotherClientUnmountsWhatACrashedOneMounted() {
        Cli.assertOk(as("crashed", "mount", "web", pods.resolve("a").toString()));
        Path staging = tmp.resolve("crashed/staging").resolve(id);
        assertTrue(Files.isDirectory(staging));

        // A new client mounts a second target: it stages where the volume is staged, not in a directory of its own.
        Cli.assertOk(as("new", "mount", "web", pods.resolve("b").toString()));
        assertEquals(staging.toString(), plugin.records.stagingPath(id));

        Cli.assertOk(as("new", "umount", "web", pods.resolve("a").toString()));
        assertEquals(List.of("NodeUnpublishVolume"), last(1));
        Cli.assertOk(as("new", "umount", "web", pods.resolve("b").toString()));
        assertEquals(List.of("NodeUnpublishVolume", "NodeUnstageVolume", "ControllerUnpublishVolume"), last(3));
        assertEquals(null, plugin.records.stagingPath(id));
        assertTrue(plugin.attachments.get(id).isEmpty());
        assertTrue(Files.isDirectory(staging), "another client's staging directory is not this one's to remove");
        assertFalse(Files.exists(tmp.resolve("data/records/node").resolve(id + ".json")));
    }

    @Test
    void umountOfAPathNotMountedSaysSoAndDoesNothing() {
        Result nowhere = as("c", "umount", "web", pods.resolve("a").toString());
        assertEquals(1, nowhere.code());
        assertEquals("stratactl: web is not mounted at " + pods.resolve("a")
                + " (it is not mounted anywhere on this node)\n", nowhere.err());

        Cli.assertOk(as("c", "mount", "web", pods.resolve("a").toString()));
        int calls = plugin.calls.size();
        Result elsewhere = as("c", "umount", "web", pods.resolve("typo").toString());
        assertEquals(1, elsewhere.code());
        assertEquals("stratactl: web is not mounted at " + pods.resolve("typo") + " (it is mounted at "
                + pods.resolve("a") + ")\n", elsewhere.err());
        assertTrue(plugin.calls.subList(calls, plugin.calls.size()).stream().noneMatch(c -> c.startsWith("Node")),
                () -> "no node call: " + plugin.calls);
    }

    @Test
    void rmOfAMountedVolumeNamesTheCommandThatUnmountsIt() {
        Cli.assertOk(as("c", "mount", "web", pods.resolve("a").toString()));
        Result r = as("c", "volume", "rm", "web");
        assertEquals(1, r.code());
        assertEquals("stratactl: remove web: volume is in use, mounted at " + pods.resolve("a")
                + " (stratactl umount web " + pods.resolve("a") + ", or stratactl volume rm --force web)\n", r.err());
        assertTrue(plugin.volumes.containsKey(id));
        assertFalse(plugin.calls.contains("DeleteVolume " + id));
    }

    @Test
    void rmForceUndoesWhateverACrashedClientLeft() {
        // A client that died between NodeStageVolume and NodePublishVolume: staged, attached, published nowhere.
        Cli.assertOk(as("crashed", "mount", "web", pods.resolve("a").toString()));
        plugin.records.unpublished(id, pods.resolve("a").toString());
        Result refused = as("new", "volume", "rm", "web");
        assertEquals("stratactl: remove web: volume is in use, staged at " + tmp.resolve("crashed/staging").resolve(id)
                + " by a mount that did not finish (stratactl volume rm --force web unstages it)\n", refused.err());

        Cli.assertOk(as("crashed", "mount", "web", pods.resolve("b").toString()));
        Result forced = as("new", "volume", "rm", "--force", "web", "never-made");
        Cli.assertOk(forced);
        assertEquals(List.of("web", "never-made"), forced.lines());
        assertEquals(List.of("NodeUnpublishVolume", "NodeUnstageVolume", "ControllerUnpublishVolume", "DeleteVolume"),
                last(4));
        assertFalse(plugin.volumes.containsKey(id));
        assertFalse(Files.exists(pods.resolve("b")));
        assertEquals(null, plugin.records.stagingPath(id));
    }

    @Test
    void snapshotLsAndInspectShowWhatTheRecordsSay() throws Exception {
        Cli.assertOk(cli.run("snapshot", "create", "web", "--name", "web-snap"));
        Result ls = cli.run("snapshot", "ls");
        Cli.assertOk(ls);
        assertTrue(ls.lines().get(1).matches("web-snap\\s+" + Ids.snapshotId("web-snap") + "\\s+" + id + "\\s+.*"),
                ls.out());

        Cli.assertOk(as("c", "mount", "web", pods.resolve("a").toString()));
        JsonNode mounts = new ObjectMapper().readTree(cli.run("volume", "inspect", "web").out()).get(0).get("Mounts");
        assertEquals(tmp.resolve("c/staging").resolve(id).toString(), mounts.get("StagingPath").asText());
        assertEquals(pods.resolve("a").toString(), mounts.get("TargetPaths").get(0).asText());
    }

    /** The volume's last n calls, method names only (ControllerGetVolume, which only reads, left out). */
    private List<String> last(int n) {
        List<String> all = plugin.callsFor(id).stream().filter(c -> !c.equals("ControllerGetVolume")).toList();
        return all.subList(all.size() - n, all.size());
    }
}
