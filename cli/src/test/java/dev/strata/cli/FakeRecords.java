package dev.strata.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a Strata driver keeps under {@code DATA_DIR/records} and stratactl reads: the node's record of
 * each volume in use ({@code node/<id>.json}) and each snapshot's record ({@code snapshots/<id>.json}),
 * in the driver's JSON shape, written aside and renamed as the driver does. Each carries a field
 * stratactl does not know, as a newer driver's records would.
 */
final class FakeRecords {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path records;
    private final Map<String, String> staging = new HashMap<>();
    private final Map<String, List<String>> targets = new HashMap<>();

    FakeRecords(Path dataDir) {
        this.records = dataDir.resolve("records");
    }

    synchronized void staged(String volumeId, String path) {
        staging.put(volumeId, path);
        writeNode(volumeId);
    }

    synchronized void unstaged(String volumeId) {
        staging.remove(volumeId);
        writeNode(volumeId);
    }

    synchronized String stagingPath(String volumeId) {
        return staging.get(volumeId);
    }

    synchronized void published(String volumeId, String target) {
        List<String> list = targets.computeIfAbsent(volumeId, k -> new ArrayList<>());
        if (!list.contains(target)) {
            list.add(target);
        }
        writeNode(volumeId);
    }

    synchronized void unpublished(String volumeId, String target) {
        targets.getOrDefault(volumeId, new ArrayList<>()).remove(target);
        writeNode(volumeId);
    }

    void snapshot(String id, String name, String sourceVolumeId) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("id", id);
        r.put("name", name);
        r.put("sourceVolumeId", sourceVolumeId);
        r.put("engine", "fake");
        r.put("state", "READY");
        r.put("createdAt", "2023-11-14T22:13:20Z");
        r.put("retention", Map.of("days", 7)); // unknown to stratactl
        write(records.resolve("snapshots"), id, r);
    }

    private void writeNode(String volumeId) {
        List<String> published = targets.getOrDefault(volumeId, List.of());
        Path dir = records.resolve("node");
        if (staging.get(volumeId) == null && published.isEmpty()) {
            delete(dir.resolve(volumeId + ".json"));
            return;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("volumeId", volumeId);
        r.put("stagingPath", staging.get(volumeId));
        r.put("stageMode", "SINGLE_NODE_WRITER");
        r.put("stageFlags", List.of());
        r.put("stagedDevice", Map.of("major", 7, "minor", 3)); // unknown to stratactl
        r.put("publications", published.stream().map(t -> Map.of("targetPath", t, "readOnly", false,
                "mode", "SINGLE_NODE_WRITER", "mountFlags", List.of(), "mountedSource", "/x")).toList());
        write(dir, volumeId, r);
    }

    private static void write(Path dir, String id, Map<String, Object> record) {
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve("." + id + ".tmp");
            JSON.writeValue(tmp.toFile(), record);
            Files.move(tmp, dir.resolve(id + ".json"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
