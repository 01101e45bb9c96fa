package dev.strata.node.engine.thin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.io.StoredJson;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The engine's notes of its thin devices, one JSON file per volume or snapshot ID. Files are
 * replaced atomically and synced: the pool's metadata is durable, so the notes of what is in it must
 * be too. The pool device IDs in them come from {@link ThinIds}.
 */
final class ThinDevices {
    private static final ObjectMapper JSON = StoredJson.mapper();
    private final Path dir;

    ThinDevices(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    Optional<ThinDevice> get(String id) throws IOException {
        Path file = dir.resolve(id);
        return Files.exists(file) ? Optional.of(JSON.readValue(file.toFile(), ThinDevice.class)) : Optional.empty();
    }

    void put(String id, ThinDevice device) throws IOException {
        AtomicFile.write(dir.resolve(id), JSON.writeValueAsBytes(device));
    }

    void remove(String id) throws IOException {
        Files.deleteIfExists(dir.resolve(id));
    }

    Map<String, ThinDevice> all() throws IOException {
        Map<String, ThinDevice> all = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (!AtomicFile.isTemporary(name)) {
                    all.put(name, JSON.readValue(f.toFile(), ThinDevice.class));
                }
            }
        }
        return all;
    }
}
