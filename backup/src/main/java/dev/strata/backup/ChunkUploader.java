package dev.strata.backup;

import java.io.IOException;
import java.util.Set;

/**
 * One backup's view of which chunks the target already has whole: listed once at the start, then
 * added to as the backup stores more, so a chunk already there costs a hash and no request. Where
 * puts are buffered ({@link BackupTarget#orphansAreWhole} false), a chunk no manifest references may
 * be one a power cut tore before its flush: it is written again rather than trusted. Counts what the
 * backup had to store.
 */
final class ChunkUploader {
    private final ChunkStore store;
    private final Set<String> known;
    private long newChunks;
    private long uploadedBytes;

    ChunkUploader(ChunkStore store, ManifestStore manifests) throws IOException {
        this.store = store;
        this.known = store.listIds();
        if (!store.target().orphansAreWhole()) {
            known.retainAll(manifests.referencedChunkIds());
        }
    }

    Manifest.ChunkRef upload(byte[] data, int offset, int length) throws IOException {
        String id = store.codec().chunkId(data, offset, length);
        if (!known.contains(id)) {
            uploadedBytes += store.write(id, data, offset, length);
            newChunks++;
            known.add(id);
        }
        return new Manifest.ChunkRef(id, length);
    }

    /** Whether a chunk list reused from the parent is still whole on the target. */
    boolean haveAll(Iterable<Manifest.ChunkRef> chunks) {
        for (Manifest.ChunkRef ref : chunks) {
            if (!known.contains(ref.id())) {
                return false;
            }
        }
        return true;
    }

    long newChunks() {
        return newChunks;
    }

    long uploadedBytes() {
        return uploadedBytes;
    }
}
