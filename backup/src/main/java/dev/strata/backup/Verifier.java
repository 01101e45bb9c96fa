package dev.strata.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Re-reads every chunk a backup references, each once, and checks it as a restore would. Problems
 * are collected, not thrown, so one report lists all the damage.
 */
final class Verifier {
    private final ChunkStore store;
    private final ManifestStore manifests;
    private final int maxChunk;
    private final List<String> problems = new ArrayList<>();
    private final Set<String> checked = new HashSet<>();
    private long bytes;
    private byte[] readBuffer = new byte[0]; // each chunk is read into the last one's array

    Verifier(ChunkStore store, ManifestStore manifests, int maxChunk) {
        this.store = store;
        this.manifests = manifests;
        this.maxChunk = maxChunk;
    }

    /** One verifier per report: it counts each chunk once across an overlay snapshot's layers. */
    VerifyReport verify(Manifest manifest) throws IOException {
        if (check(manifest) && ManifestChecks.isLayered(manifest)) {
            for (Manifest.Entry layer : manifest.entries()) {
                verifyLayer(layer.target());
            }
        } else {
            verifyChunks(manifest);
        }
        return new VerifyReport(manifest.name(), checked.size(), bytes, problems);
    }

    private boolean check(Manifest manifest) {
        try {
            ManifestChecks.check(manifest, maxChunk);
            return true;
        } catch (BackupException e) {
            problems.add(e.getMessage());
            return false;
        }
    }

    private void verifyLayer(String name) throws IOException {
        Manifest layer;
        try {
            layer = manifests.read(name);
        } catch (BackupException e) {
            if (e.kind() != BackupException.Kind.NOT_FOUND && e.kind() != BackupException.Kind.CORRUPT) {
                throw e;
            }
            problems.add(e.getMessage());
            return;
        }
        if (check(layer) && !LayerBackup.isNamedByContent(store, layer)) {
            problems.add("the layer " + name + " does not hold the content its name says");
        }
        verifyChunks(layer);
    }

    private void verifyChunks(Manifest manifest) throws IOException {
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry == null || entry.chunks() == null) {
                continue;
            }
            for (Manifest.ChunkRef ref : entry.chunks()) {
                if (ref == null || ref.isHole() || !checked.add(ref.id())) {
                    continue;
                }
                try {
                    ByteBuffer chunk = store.read(ref, entry.path(), readBuffer);
                    readBuffer = chunk.array();
                    bytes += chunk.remaining();
                } catch (BackupException e) {
                    if (e.kind() != BackupException.Kind.MISSING_CHUNK && e.kind() != BackupException.Kind.CORRUPT) {
                        throw e;
                    }
                    problems.add(e.getMessage());
                }
            }
        }
    }
}
