package dev.strata.backup;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an interrupted backup leaves for its retry: after every {@link #EVERY_BYTES} stored, the
 * stores are made durable and an index names the chunks and packs whose puts have returned. A
 * retry learns them from the indexes as it learns any stored chunk ({@link IndexStore#known}), so a
 * backup cut off by a server going down or a killed driver loses at most that much. Without them
 * nothing named a failed backup's packs, and on S3, where every chunk is packed, a retry began the
 * whole upload again.
 *
 * <p>The backup's own index, written before its manifest, names everything it stored; its
 * checkpoints are then deleted, so that later backups read one index per backup. A failed backup's
 * stay for its retry, until a prune folds every index into one made from the manifests
 * ({@link IndexStore#replaceAll}) and deletes the orphans they named.
 */
final class UploadCheckpoints {
    /** 64 MiB: a few indexes for a GiB, each a small put; what a cut-off backup stores again. */
    static final long EVERY_BYTES = 64L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(UploadCheckpoints.class);

    private final ChunkStore store;
    private final IndexStore indexes;
    private final List<String> ids = new ArrayList<>();
    private final List<Manifest.ChunkRef> places = new ArrayList<>();
    private final Set<String> namedPacks = new HashSet<>();
    private final List<String> written = new ArrayList<>();
    private long bytesSince;

    UploadCheckpoints(ChunkStore store, IndexStore indexes) {
        this.store = store;
        this.indexes = indexes;
    }

    /** A chunk stored alone whose put returned. */
    void chunkLanded(String id, long bytes) {
        ids.add(id);
        bytesSince += bytes;
    }

    /** A pack whose put returned, and the places of the chunks in it. */
    void packLanded(List<Manifest.ChunkRef> chunks, long bytes) {
        places.addAll(chunks);
        bytesSince += bytes;
    }

    /** Names what landed since the last checkpoint once that is {@link #EVERY_BYTES} or more. */
    void writeIfDue() throws IOException {
        if (bytesSince < EVERY_BYTES) {
            return;
        }
        store.flush(); // an index names only what is durable
        written.add(indexes.write(List.of(), ids, places));
        places.forEach(ref -> namedPacks.add(ref.pack()));
        ids.clear();
        places.clear();
        bytesSince = 0;
    }

    /** Whether a checkpoint names the pack: a failed backup leaves it for its retry. */
    boolean names(String pack) {
        return namedPacks.contains(pack);
    }

    /** Deletes the checkpoints once the backup's own index names all they did; best effort. */
    void deleteAll() {
        for (String key : written) {
            try {
                indexes.delete(key);
            } catch (IOException | RuntimeException e) {
                LOG.warn("the checkpoint {} in {} stays until a prune: {}", key, store.url(), e.toString());
            }
        }
        written.clear();
    }
}
