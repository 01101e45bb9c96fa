package dev.strata.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.cli.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code stratactl system df} and {@code stratactl events} against a CSI plugin on a real socket. */
@Timeout(60)
class SystemCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void dfShowsVolumesSnapshotsAndTrashByEngine() throws Exception {
        Path socket = tmp.resolve("csi.sock");
        Path data = tmp.resolve("data");
        // The driver's layout: an engine with one deleted tree of 64 KiB waiting in its trash.
        Path tree = Files.createDirectories(data.resolve("engines/fake/trash/vol-x.1"));
        Files.write(tree.resolve("file"), new byte[64 << 10]);
        Files.createDirectories(data.resolve("engines/other"));
        try (FakeCsiPlugin plugin = new FakeCsiPlugin(socket, false, data)) {
            Cli cli = new Cli(socket);
            Cli.assertOk(cli.run("volume", "create", "web", "--size", "1Gi"));
            Cli.assertOk(cli.run("volume", "create", "db", "--size", "2Gi"));
            Cli.assertOk(cli.run("snapshot", "create", "web", "--name", "web-snap"));
            Result df = cli.run("system", "df");
            Cli.assertOk(df);
            List<String> lines = df.lines();
            assertEquals(List.of("ENGINE", "VOLUMES", "ACTIVE", "SIZE", "SNAPSHOTS", "SNAPSHOT", "SIZE", "AVAILABLE",
                    "TRASH"), List.of(lines.get(0).trim().split("\\s+")));
            List<String> fake = List.of(lines.get(1).trim().split("\\s+"));
            assertEquals(List.of("fake", "2", "0", "3Gi", "1", "1Gi", "-"), fake.subList(0, 7), df.out());
            // the tree's blocks: the file's 64 KiB and its directory's own block
            assertTrue(fake.get(7).matches("6[4-9]Ki|7[0-2]Ki"), df.out());
            assertEquals("(1)", fake.get(8), df.out());
            assertEquals(List.of("other", "0", "0", "0B", "0", "0B", "-", "-"),
                    List.of(lines.get(2).trim().split("\\s+")), df.out());
            assertEquals(3, lines.size(), "no thin pool here: " + df.out());
        }
    }

    @Test
    void eventsPrintsEachChangeAsItHappens() throws Exception {
        Path socket = tmp.resolve("csi.sock");
        try (FakeCsiPlugin plugin = new FakeCsiPlugin(socket)) {
            Cli cli = new Cli(socket);
            Cli.assertOk(cli.run("volume", "create", "before", "--size", "1Gi"));
            CompletableFuture<Result> events = CompletableFuture.supplyAsync(
                    () -> new Cli(socket).run("events", "--interval", "0.2", "--duration", "4"));
            Thread.sleep(1000);
            Cli.assertOk(cli.run("volume", "create", "web", "--size", "1Gi"));
            Thread.sleep(600);
            Cli.assertOk(cli.run("snapshot", "create", "web", "--name", "web-snap"));
            Thread.sleep(600);
            Cli.assertOk(cli.run("volume", "rm", "before"));
            Thread.sleep(600);
            Cli.assertOk(cli.run("snapshot", "rm", "web-snap"));
            Result r = events.get(30, TimeUnit.SECONDS);
            Cli.assertOk(r);
            List<String> seen = r.lines().stream().map(l -> l.substring(l.indexOf(' ') + 1)).toList();
            assertEquals(List.of("volume create web (engine=fake, size=1Gi)",
                    "snapshot create " + dev.strata.common.model.Ids.snapshotId("web-snap") + " (source="
                            + dev.strata.common.model.Ids.volumeId("web") + ")",
                    "volume destroy before",
                    "snapshot destroy " + dev.strata.common.model.Ids.snapshotId("web-snap")), seen, r.out());
            assertTrue(r.lines().get(0).matches("\\d{4}-\\d\\d-\\d\\dT.*Z volume create web .*"), r.out());
        }
    }
}
