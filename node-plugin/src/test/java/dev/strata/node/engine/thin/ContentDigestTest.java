package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VM tests' fingerprint of a device: the same for the same bytes however split, another for any change. */
class ContentDigestTest {
    @TempDir
    Path tmp;

    @Test
    void theSameBytesGiveTheSameDigestAndAnyChangeAnother() throws Exception {
        byte[] data = new byte[(3 << 20) + 5];
        new Random(7).nextBytes(data);
        Path file = Files.write(tmp.resolve("device"), data);
        byte[] whole = ContentDigest.of(file, data.length);

        ContentDigest split = new ContentDigest();
        for (int at = 0; at < data.length; at += 333_333) {
            split.update(data, at, Math.min(333_333, data.length - at));
        }
        assertArrayEquals(whole, split.digest(), "handed in pieces across the MiB boundaries");

        for (int at : new int[] {0, 1 << 20, data.length - 1}) {
            byte[] changed = data.clone();
            changed[at] ^= 1;
            ContentDigest other = new ContentDigest();
            other.update(changed);
            assertFalse(Arrays.equals(whole, other.digest()), "one bit changed at " + at);
        }
        ContentDigest shorter = new ContentDigest();
        shorter.update(data, 0, data.length - 1);
        assertFalse(Arrays.equals(whole, shorter.digest()), "one byte fewer");
    }
}
