package dev.strata.backup;

import java.time.Instant;
import java.util.Map;

/**
 * What one backup holds and what it cost to make.
 *
 * @param logicalBytes the sum of the sizes of the files backed up
 * @param chunks the chunk references in the manifest (a chunk used twice counts twice)
 * @param newChunks the chunks this backup had to store, because no earlier backup had them
 * @param uploadedBytes the stored (compressed, maybe encrypted) size of those new chunks
 * @param readBytes the bytes of file data read from the tree; files reused from the parent are not read
 * @param skipped entries that are neither file, directory nor symlink (devices, fifos, sockets)
 */
public record BackupSummary(String name, Instant createdAt, Map<String, String> labels, String parent,
        long files, long directories, long symlinks, long skipped, long logicalBytes, long chunks,
        long newChunks, long uploadedBytes, long readBytes) {
    public BackupSummary {
        labels = Labels.copy(labels);
    }
}
