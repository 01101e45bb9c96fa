package dev.strata.node.engine.thin;

import dev.strata.common.io.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hands out pool device IDs (24 bits in dm-thin) for volumes and snapshots alike, from one counter
 * file that is advanced, and synced, before an ID is used. There is one per engine: volumes and
 * snapshots once kept a counter each on the same file, so a volume and a snapshot made at the same
 * moment could both get one ID, and the one whose pool message then failed had its undo delete the
 * other's device.
 */
final class ThinIds {
    private final Path counter;

    ThinIds(Path counter) {
        this.counter = counter;
    }

    synchronized long next() throws IOException {
        long next = Files.exists(counter) ? Long.parseLong(Files.readString(counter).strip()) : 1;
        AtomicFile.write(counter, Long.toString(next + 1).getBytes(StandardCharsets.US_ASCII));
        return next;
    }
}
