package dev.strata.backup;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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

    /**
     * Checks the manifest's chunks not checked yet. A pack's are read with one request for the span
     * they take, not one each (a backup of 100,000 small files is some fifty packs): restic's check
     * reads pack by pack too. Anything wrong with that read, a pack missing or shorter than its
     * chunks, sends its chunks through the one-by-one read, which names each one's problem.
     */
    private void verifyChunks(Manifest manifest) throws IOException {
        Map<String, List<Located>> packed = new TreeMap<>();
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry == null || entry.chunks() == null) {
                continue;
            }
            for (Manifest.ChunkRef ref : entry.chunks()) {
                if (ref == null || ref.isHole() || !checked.add(ref.id())) {
                    continue;
                }
                if (ref.isPacked() && store.isValid(ref)) {
                    packed.computeIfAbsent(ref.pack(), p -> new ArrayList<>()).add(new Located(ref, entry.path()));
                } else {
                    verifyOne(new Located(ref, entry.path()));
                }
            }
        }
        for (Map.Entry<String, List<Located>> pack : packed.entrySet()) {
            verifyPack(pack.getKey(), pack.getValue());
        }
    }

    /** A chunk and the file that names it first. */
    private record Located(Manifest.ChunkRef ref, String file) {
        long end() {
            return ref.offset() + ref.stored();
        }
    }

    private void verifyPack(String pack, List<Located> chunks) throws IOException {
        long from = chunks.stream().mapToLong(c -> c.ref().offset()).min().orElseThrow();
        long to = chunks.stream().mapToLong(Located::end).max().orElseThrow();
        ByteBuffer span = null;
        if (to - from <= ChunkUploader.MAX_PACK_BYTES) {
            try {
                span = store.readPackSpan(pack, from, (int) (to - from), readBuffer);
                readBuffer = span.array();
            } catch (NoSuchFileException | EOFException e) {
                // each chunk's own read says what is wrong with it
            }
        }
        for (Located chunk : chunks) {
            if (span == null) {
                verifyOne(chunk);
                continue;
            }
            try {
                bytes += store.openInSpan(chunk.ref(), chunk.file(), span, from).remaining();
            } catch (BackupException e) {
                problems.add(e.getMessage());
            }
        }
    }

    private void verifyOne(Located chunk) throws IOException {
        try {
            ByteBuffer plain = store.read(chunk.ref(), chunk.file(), readBuffer);
            readBuffer = plain.array();
            bytes += plain.remaining();
        } catch (BackupException e) {
            if (e.kind() != BackupException.Kind.MISSING_CHUNK && e.kind() != BackupException.Kind.CORRUPT) {
                throw e;
            }
            problems.add(e.getMessage());
        }
    }
}
