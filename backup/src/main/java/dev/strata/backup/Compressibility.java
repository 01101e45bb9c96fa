package dev.strata.backup;

import java.util.Arrays;

/**
 * Whether a chunk is worth giving to zstd, judged by the Shannon entropy of its bytes: encrypted
 * or already compressed data (media, archives) is within a hair of 8 bits a byte and does not
 * shrink. zstd still searched every such chunk for matches, and set up its tables for each: on a
 * tree of 100,000 small random files that was 10 GiB of allocation and a fifth of the backup's CPU.
 * Text is about 4.5 bits a byte, program code 5 to 6.
 *
 * <p>What a byte histogram cannot see is repetition of random blocks inside one chunk; such a
 * chunk is stored as it is (repeats across chunks are deduplicated by ID anyway).
 */
final class Compressibility {
    /** Bytes looked at from each of the start, the middle and the end of a big chunk. */
    static final int SAMPLE_BYTES = 4096;
    /**
     * Random bytes measure about 7.8 bits a byte in 1 KiB and 7.99 in 12 KiB (a finite sample looks
     * a little less random than it is); below 512 bytes they can measure under this, and zstd is
     * cheap on so little.
     */
    static final double RANDOM_BITS_PER_BYTE = 7.5;
    private static final double LN2 = Math.log(2);

    private static final ThreadLocal<int[]> COUNTS = ThreadLocal.withInitial(() -> new int[256]);

    private Compressibility() {}

    static boolean worthTrying(byte[] data, int offset, int length) {
        int[] counts = COUNTS.get(); // a histogram per chunk was a twentieth of a backup's allocation
        Arrays.fill(counts, 0);
        int sampled;
        if (length <= 3 * SAMPLE_BYTES) {
            count(counts, data, offset, length);
            sampled = length;
        } else {
            count(counts, data, offset, SAMPLE_BYTES);
            count(counts, data, offset + (length - SAMPLE_BYTES) / 2, SAMPLE_BYTES);
            count(counts, data, offset + length - SAMPLE_BYTES, SAMPLE_BYTES);
            sampled = 3 * SAMPLE_BYTES;
        }
        return bitsPerByte(counts, sampled) < RANDOM_BITS_PER_BYTE;
    }

    static double bitsPerByte(int[] counts, int total) {
        if (total == 0) {
            return 0;
        }
        double bits = 0;
        for (int count : counts) {
            if (count > 0) {
                double p = (double) count / total;
                bits -= p * Math.log(p);
            }
        }
        return bits / LN2;
    }

    private static void count(int[] counts, byte[] data, int from, int length) {
        for (int i = from; i < from + length; i++) {
            counts[data[i] & 0xff]++;
        }
    }
}
