package dev.strata.backup;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Content-defined chunking with FastCDC (Xia et al., USENIX ATC 2016): a gear rolling hash picks
 * cut points from the content itself, so an insertion moves only the cuts near it and every other
 * chunk keeps its ID. Normalised chunking (a harder mask before the average size, an easier one
 * after) keeps sizes close to the average. All parameters, including the gear table's seed, come
 * from the repository config so that every writer cuts the same data the same way.
 */
final class Chunker {
    /** Receives each chunk; the bytes are only valid during the call. */
    interface Sink {
        void accept(byte[] buffer, int offset, int length) throws IOException;
    }

    private static final int FIRST_BUFFER = 64 << 10;
    private final long[] gear = new long[256];
    private final int min;
    private final int avg;
    private final int max;
    private final long hardMask;
    private final long easyMask;

    Chunker(RepositoryConfig.ChunkerParams params) {
        SplittableRandom random = new SplittableRandom(params.seed());
        for (int i = 0; i < gear.length; i++) {
            gear[i] = random.nextLong();
        }
        min = params.min();
        avg = params.avg();
        max = params.max();
        int bits = Integer.numberOfTrailingZeros(avg);
        // The gear hash shifts left, so only its high bits depend on a full window of recent bytes.
        hardMask = -1L << (64 - (bits + 2));
        easyMask = -1L << (64 - (bits - 2));
    }

    int maxChunk() {
        return max;
    }

    /** A reader for one thread, whose buffer serves every stream it splits. */
    Reader reader() {
        return new Reader();
    }

    /**
     * Splits streams one after the other through one buffer, which starts small and grows to the
     * maximum chunk size only for a stream that needs it. A buffer per file made a tree of 100,000
     * small files allocate 6 GiB, and the small heap collected through most of the backup.
     */
    final class Reader {
        private byte[] buffer = new byte[Math.min(max, FIRST_BUFFER)];

        /** Whether a stream of {@code length} bytes is one chunk whatever its content: no cut comes before min. */
        boolean isOneChunk(int length) {
            return length <= min;
        }

        /** Cuts the stream into chunks, in order. An empty stream gives no chunk. Returns the bytes read. */
        long split(InputStream in, Sink sink) throws IOException {
            int filled = 0;
            long total = 0;
            boolean eof = false;
            while (true) {
                // a cut point depends on up to max bytes ahead: fill the buffer before choosing one
                while (!eof && filled < max) {
                    if (filled == buffer.length) {
                        buffer = Arrays.copyOf(buffer, Math.min(max, buffer.length * 2));
                    }
                    int n = in.read(buffer, filled, buffer.length - filled);
                    if (n < 0) {
                        eof = true;
                    } else {
                        filled += n;
                    }
                }
                if (filled == 0) {
                    return total;
                }
                int length = cut(buffer, 0, filled);
                sink.accept(buffer, 0, length);
                total += length;
                System.arraycopy(buffer, length, buffer, 0, filled - length);
                filled -= length;
            }
        }
    }

    /** The length of the chunk starting at {@code offset}, given {@code available} bytes (all that remain, or at least max). */
    int cut(byte[] data, int offset, int available) {
        if (available <= min) {
            return available;
        }
        int limit = Math.min(available, max);
        int normal = Math.min(limit, avg);
        long hash = 0;
        int i = min;
        for (; i < normal; i++) {
            hash = (hash << 1) + gear[data[offset + i] & 0xff];
            if ((hash & hardMask) == 0) {
                return i + 1;
            }
        }
        for (; i < limit; i++) {
            hash = (hash << 1) + gear[data[offset + i] & 0xff];
            if ((hash & easyMask) == 0) {
                return i + 1;
            }
        }
        return limit;
    }
}
