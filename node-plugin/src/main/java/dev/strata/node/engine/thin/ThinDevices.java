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
 * The engine's notes of its thin devices, one JSON file per volume or snapshot ID, and the counter
 * that hands out pool device IDs. Files are replaced atomically and synced: the pool's metadata is
 * durable, so the notes of what is in it must be too.
 */
final class ThinDevices {
    private static final ObjectMapper JSON = StoredJson.mapper();
    private final Path dir;
    private final Path counter;

    ThinDevices(Path dir, Path counter) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.counter = counter;
    }

    Optional<ThinDevice> get(String id) throws IOException {
        Path file = dir.resolve(id);
        return Files.exists(file) ? Optional.of(JSON.readValue(file.toFile(), ThinDevice.class)) : Optional.empty();
    }

    void put(String id, ThinDevice device) throws IOException {
        write(dir.resolve(id), JSON.writeValueAsBytes(device));
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

    /** The next unused pool device ID (24 bits in dm-thin); the counter is advanced before use. */
    synchronized long nextThinId() throws IOException {
        long next = Files.exists(counter) ? Long.parseLong(Files.readString(counter).strip()) : 1;
        write(counter, Long.toString(next + 1).getBytes());
        return next;
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        AtomicFile.write(file, bytes);
    }
}
