package dev.strata.backup;

import java.io.IOException;
import java.util.List;

/**
 * Writes a checked image manifest's blocks onto a device, at their offsets, reading chunks ahead as
 * a tree restore does. Holes are not written: the device must read zero where the image has none
 * (a new thin device does), which keeps a restore of a sparse image sparse.
 */
final class ImageRestore {
    private static final int READ_THREADS = 3;
    private static final int READ_WINDOW = 8;

    private final ChunkStore store;
    private final int maxChunk;

    ImageRestore(ChunkStore store, int maxChunk) {
        this.store = store;
        this.maxChunk = maxChunk;
    }

    void restore(Manifest manifest, BlockImage device) throws IOException {
        ManifestChecks.checkImage(manifest, maxChunk);
        Manifest.Entry image = manifest.entries().get(0);
        if (image.size() > device.sizeBytes()) {
            throw new BackupException(BackupException.Kind.INVALID, "backup " + manifest.name() + " is an image of "
                    + image.size() + " bytes; the device to restore it onto has only " + device.sizeBytes());
        }
        try (ChunkPrefetch chunks = new ChunkPrefetch(store, ChunkPrefetch.inOrder(List.of(image)), READ_THREADS,
                READ_WINDOW)) {
            long offset = 0;
            for (Manifest.ChunkRef ref : image.chunks()) {
                if (!ref.isHole()) {
                    device.write(offset, chunks.next());
                }
                offset += ref.size();
            }
        }
        device.flush();
    }
}
