package dev.strata.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a device image into one {@value Manifest.Entry#IMAGE} entry, block by block in order: a
 * block the plan names is read (and stored unless it reads zero, which makes it a hole); any other
 * is a hole (a first backup) or the parent's block (an incremental one). So a backup reads O(changed
 * blocks), not O(device size), and a sparse device has a short manifest: each run of holes is one
 * ref.
 */
final class ImageBackup {
    private final ChunkUploader uploader;
    private final Locks.Lock lock;
    private final int maxChunk;
    private final List<Manifest.ChunkRef> refs = new ArrayList<>();
    private long readBytes;
    private long dataRefs;

    ImageBackup(ChunkUploader uploader, Locks.Lock lock, int maxChunk) {
        this.uploader = uploader;
        this.lock = lock;
        this.maxChunk = maxChunk;
    }

    BackupContents run(BlockImage image, ImagePlan plan, Manifest parent) throws IOException {
        int block = plan.blockBytes();
        if (block > maxChunk) {
            throw new BackupException(BackupException.Kind.INVALID, "an image block of " + block
                    + " bytes is larger than the repository's largest chunk, " + maxChunk);
        }
        ParentImage previous = parent == null ? null : ParentImage.of(parent);
        List<ImagePlan.Range> ranges = plan.ranges();
        long size = image.sizeBytes();
        byte[] buffer = new byte[block];
        int next = 0;
        for (long offset = 0; offset < size; offset += block) {
            int length = (int) Math.min(block, size - offset);
            while (next < ranges.size() && end(ranges.get(next)) <= offset) {
                next++;
            }
            boolean touched = next < ranges.size() && ranges.get(next).offset() < offset + length;
            Manifest.ChunkRef ref;
            if (touched) {
                ref = read(image, offset, buffer, length);
            } else if (previous == null) {
                ref = Manifest.ChunkRef.hole(length);
            } else {
                Manifest.ChunkRef kept = previous.blockAt(offset, length);
                ref = kept != null && (kept.isHole() || uploader.haveAll(List.of(kept))) ? kept
                        : read(image, offset, buffer, length);
            }
            append(ref);
            lock.refreshIfDue();
        }
        Manifest.Entry entry = new Manifest.Entry(".", Manifest.Entry.IMAGE, 0, 0, 0, 0, size, 0, null, refs);
        return new BackupContents(List.of(entry), 0, 0, 0, 0, size, dataRefs, readBytes);
    }

    private Manifest.ChunkRef read(BlockImage image, long offset, byte[] buffer, int length) throws IOException {
        image.read(offset, ByteBuffer.wrap(buffer, 0, length));
        readBytes += length;
        if (isZero(buffer, length)) {
            return Manifest.ChunkRef.hole(length);
        }
        return uploader.upload(buffer, 0, length);
    }

    /** Adds a block's ref; a hole right after a hole lengthens it (up to what a ref's size can say). */
    private void append(Manifest.ChunkRef ref) {
        int last = refs.size() - 1;
        if (ref.isHole() && last >= 0 && refs.get(last).isHole()
                && (long) refs.get(last).size() + ref.size() <= Integer.MAX_VALUE) {
            refs.set(last, Manifest.ChunkRef.hole(refs.get(last).size() + ref.size()));
            return;
        }
        if (!ref.isHole()) {
            dataRefs++;
        }
        refs.add(ref);
    }

    private static final byte[] ZEROS = new byte[1 << 20];

    private static boolean isZero(byte[] buffer, int length) {
        for (int from = 0; from < length; from += ZEROS.length) {
            int n = Math.min(ZEROS.length, length - from);
            if (Arrays.mismatch(buffer, from, from + n, ZEROS, 0, n) >= 0) {
                return false;
            }
        }
        return true;
    }

    private static long end(ImagePlan.Range range) {
        return range.offset() + range.length();
    }

    /** The parent backup's image, looked up by offset. */
    private record ParentImage(long[] starts, List<Manifest.ChunkRef> refs, long size) {
        /** The parent, checked as a restore would check it (a tree's backup is INVALID as a parent). */
        static ParentImage of(Manifest parent) throws BackupException {
            ManifestChecks.checkImage(parent, Integer.MAX_VALUE);
            Manifest.Entry entry = parent.entries().get(0);
            List<Manifest.ChunkRef> refs = entry.chunks();
            long[] starts = new long[refs.size()];
            long offset = 0;
            for (int i = 0; i < refs.size(); i++) {
                starts[i] = offset;
                offset += refs.get(i).size();
            }
            return new ParentImage(starts, refs, entry.size());
        }

        /**
         * The parent's ref for exactly these bytes: its data chunk when one starts here with this
         * length, a hole when one covers them; null when the parent has nothing that fits (it was
         * shorter, or cut into other blocks).
         */
        Manifest.ChunkRef blockAt(long offset, int length) {
            if (offset + length > size) {
                return null;
            }
            int i = Arrays.binarySearch(starts, offset);
            int index = i >= 0 ? i : -i - 2;
            Manifest.ChunkRef ref = refs.get(index);
            if (ref.isHole()) {
                return starts[index] + ref.size() >= offset + length ? Manifest.ChunkRef.hole(length) : null;
            }
            return starts[index] == offset && ref.size() == length ? ref : null;
        }
    }
}
