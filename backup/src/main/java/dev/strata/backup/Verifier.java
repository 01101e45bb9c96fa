package dev.strata.backup;

import java.io.IOException;
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
    private final int maxChunk;

    Verifier(ChunkStore store, int maxChunk) {
        this.store = store;
        this.maxChunk = maxChunk;
    }

    VerifyReport verify(Manifest manifest) throws IOException {
        List<String> problems = new ArrayList<>();
        try {
            ManifestChecks.check(manifest, maxChunk);
        } catch (BackupException e) {
            problems.add(e.getMessage());
        }
        Set<String> checked = new HashSet<>();
        long bytes = 0;
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry == null || entry.chunks() == null) {
                continue;
            }
            for (Manifest.ChunkRef ref : entry.chunks()) {
                if (ref == null || ref.isHole() || !checked.add(ref.id())) {
                    continue;
                }
                try {
                    bytes += store.read(ref, entry.path()).length;
                } catch (BackupException e) {
                    if (e.kind() != BackupException.Kind.MISSING_CHUNK && e.kind() != BackupException.Kind.CORRUPT) {
                        throw e;
                    }
                    problems.add(e.getMessage());
                }
            }
        }
        return new VerifyReport(manifest.name(), checked.size(), bytes, problems);
    }
}
