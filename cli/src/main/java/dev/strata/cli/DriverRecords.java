package dev.strata.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.common.io.StoredJson;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The records a Strata driver keeps in its data directory, which its GetPluginInfo manifest names:
 * where this node has each volume staged and published ({@code records/node/<volume-id>.json}) and
 * the names of snapshots ({@code records/snapshots/<snapshot-id>.json}). They are the driver's own
 * account of what it mounted, so they hold after any client crashed, whoever the client was.
 * Read only, and tolerantly: fields stratactl does not use are ignored, a record being replaced
 * (the driver writes a temporary file and renames it) is skipped.
 */
final class DriverRecords {
    /** What {@code records/node} says of one volume; null and empty when it is not in use here. */
    record NodeUse(String volumeId, String stagingPath, List<Target> publications) {
        NodeUse {
            publications = publications == null ? List.of() : List.copyOf(publications);
        }

        List<String> targets() {
            return publications.stream().map(Target::targetPath).toList();
        }
    }

    record Target(String targetPath) {}

    private record SnapshotName(String id, String name) {}

    private static final ObjectMapper JSON = StoredJson.mapper();
    /** The driver's IDs are file names of this form; anything else names no record. */
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

    private final Path records;

    private DriverRecords(Path records) {
        this.records = records;
    }

    /** The driver's records, when it names a data directory that this host can read. */
    static Optional<DriverRecords> of(CsiClient client) {
        return client.dataDir().map(dir -> dir.resolve("records")).filter(Files::isDirectory).map(DriverRecords::new);
    }

    /** Where the volume is staged and published on this node; empty when it is neither. */
    NodeUse nodeUse(String volumeId) throws IOException {
        NodeUse none = new NodeUse(volumeId, null, List.of());
        if (!SAFE_ID.matcher(volumeId).matches()) {
            return none;
        }
        return read(records.resolve("node").resolve(volumeId + ".json"), NodeUse.class).orElse(none);
    }

    /** Snapshot ID to name, for every snapshot the driver has a record of. */
    Map<String, String> snapshotNames() throws IOException {
        Map<String, String> names = new HashMap<>();
        Path dir = records.resolve("snapshots");
        if (!Files.isDirectory(dir)) {
            return names;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "[!.]*.json")) {
            for (Path file : files) {
                read(file, SnapshotName.class).filter(s -> s.id() != null && s.name() != null)
                        .ifPresent(s -> names.put(s.id(), s.name()));
            }
        }
        return names;
    }

    private static <T> Optional<T> read(Path file, Class<T> type) throws IOException {
        try {
            return Optional.of(JSON.readValue(file.toFile(), type));
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            return Optional.empty(); // not in use, or removed while we listed
        }
    }
}
