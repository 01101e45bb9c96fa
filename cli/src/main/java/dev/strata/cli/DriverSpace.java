package dev.strata.cli;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code stratactl system df} reads beside the CSI calls, from a Strata driver's data directory
 * (named in GetPluginInfo's manifest): its engines, each engine's trash, and the thin pool's status.
 * Anything it cannot read (another driver, not root) is left out, never guessed.
 */
final class DriverSpace {
    private static final CommandRunner RUNNER = new CommandRunner();
    static final String POOL = "strata-pool";

    record Trash(long entries, long bytes) {}

    record Pool(String name, long dataUsed, long dataSize, long metadataUsed, long metadataSize, String state) {}

    private DriverSpace() {}

    /** The engines that have a directory under DATA_DIR/engines. */
    static List<String> engines(Path dataDir) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(dataDir.resolve("engines"), Files::isDirectory)) {
            dirs.forEach(d -> names.add(d.getFileName().toString()));
        } catch (IOException e) {
            // not readable (not root) or not Strata's layout: no engines from here
        }
        return names;
    }

    /** The engine's trash (DATA_DIR/engines/ENGINE/trash): trees waiting to be removed and their blocks. */
    static Optional<Trash> trash(Path dataDir, String engine) {
        Path dir = dataDir.resolve("engines").resolve(engine).resolve("trash");
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        long entries;
        try (var list = Files.list(dir)) {
            entries = list.count();
        } catch (IOException e) {
            return Optional.empty();
        }
        CommandRunner.Result du = RUNNER.run("du", "-x", "-B1", "-d1", "--", dir.toString());
        List<String> lines = du.stdout().lines().toList();
        long bytes = 0;
        for (String line : lines.subList(0, Math.max(0, lines.size() - 1))) {
            bytes += Long.parseLong(line.split("\t", 2)[0]);
        }
        return Optional.of(new Trash(entries, bytes));
    }

    /** The thin pool, when the driver has the thin engine and device-mapper answers. */
    static Optional<Pool> thinPool(Path dataDir) {
        if (!Files.isDirectory(dataDir.resolve("engines").resolve("thin"))) {
            return Optional.empty();
        }
        CommandRunner.Result status = RUNNER.run("dmsetup", "status", POOL);
        CommandRunner.Result table = RUNNER.run("dmsetup", "table", POOL);
        if (!status.ok() || !table.ok()) {
            return Optional.empty();
        }
        return Optional.of(parse(status.stdout(), table.stdout()));
    }

    /**
     * "0 LEN thin-pool TXID USEDMETA/TOTALMETA USEDDATA/TOTALDATA HELD MODE ..." and the table's data
     * block size ("0 LEN thin-pool META DATA BLOCKSECTORS ..."); metadata blocks are 4 KiB.
     */
    static Pool parse(String status, String table) {
        String[] s = status.trim().split("\\s+");
        if (s.length < 8 || s[3].equals("Fail")) {
            return new Pool(POOL, 0, 0, 0, 0, "Fail");
        }
        long chunk = Long.parseLong(table.trim().split("\\s+")[5]) * 512;
        String[] meta = s[4].split("/");
        String[] data = s[5].split("/");
        String state = s[7] + (status.contains("needs_check") ? ", needs_check" : "");
        return new Pool(POOL, Long.parseLong(data[0]) * chunk, Long.parseLong(data[1]) * chunk,
                Long.parseLong(meta[0]) * 4096, Long.parseLong(meta[1]) * 4096, state);
    }
}
