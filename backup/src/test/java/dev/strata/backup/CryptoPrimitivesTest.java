package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** NSS and the JDK are interchangeable: a target written with one is read with the other. */
class CryptoPrimitivesTest {
    private static final RepositoryKeys KEYS = RepositoryKeys.derive("pw".getBytes(StandardCharsets.UTF_8),
            new byte[16], 10_000);
    private static CryptoPrimitives nss;
    private static String nssMissing;

    @BeforeAll
    static void loadNss() {
        try {
            nss = CryptoPrimitives.nss();
        } catch (IllegalStateException e) {
            nssMissing = e.getMessage();
        }
    }

    @Test
    void bothNameChunksAlikeAndOpenEachOthersObjects() throws Exception {
        assumeTrue(nss != null, () -> "NSS is not usable here: " + nssMissing);
        CryptoPrimitives jdk = CryptoPrimitives.jdk();
        for (int size : new int[] {0, 1, 4096, 1 << 20}) {
            byte[] data = TestTrees.random(size, size);
            for (RepositoryKeys keys : new RepositoryKeys[] {null, KEYS}) {
                ChunkCodec byJdk = new ChunkCodec(keys, jdk);
                ChunkCodec byNss = new ChunkCodec(keys, nss);
                String id = byJdk.chunkId(data, 0, size);
                assertEquals(id, byNss.chunkId(data, 0, size), size + " bytes, keyed " + (keys != null));
                assertArrayEquals(data, TestTrees.bytes(byNss.open(byJdk.seal(data, 0, size, id), id, size)));
                assertArrayEquals(data, TestTrees.bytes(byJdk.open(byNss.seal(data, 0, size, id), id, size)));
            }
        }
        assertEquals(TestTrees.sha256(new byte[0]), new ChunkCodec(null, nss).chunkId(new byte[0], 0, 0));
    }

    @Test
    void backupsUseNssWhereItLoadsUnlessToldOtherwise() {
        assumeTrue(nss != null, () -> "NSS is not usable here: " + nssMissing);
        assumeTrue(System.getProperty(CryptoPrimitives.PROPERTY) == null, "the property chooses here");
        assertSame(nss, CryptoPrimitives.preferred());
        assertSame(CryptoPrimitives.preferred(), CryptoPrimitives.preferred());
    }

    @Test
    void nssRefusesWhatTheJdkRefuses() throws Exception {
        assumeTrue(nss != null, () -> "NSS is not usable here: " + nssMissing);
        byte[] data = TestTrees.random(10_000, 7);
        ChunkCodec byNss = new ChunkCodec(KEYS, nss);
        byte[] sealed = byNss.seal(data, 0, data.length, "chunk-a");
        byte[] flipped = sealed.clone();
        flipped[flipped.length / 2] ^= 1;
        RepositoryKeys other = RepositoryKeys.derive("other".getBytes(StandardCharsets.UTF_8), new byte[16], 10_000);

        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> byNss.open(flipped, "chunk-a", 1 << 20));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> byNss.open(sealed, "chunk-b", 1 << 20));
        TestTrees.assertFails(BackupException.Kind.CORRUPT,
                () -> new ChunkCodec(other, nss).open(sealed, "chunk-a", 1 << 20));
        TestTrees.assertFails(BackupException.Kind.CORRUPT,
                () -> byNss.open(Arrays.copyOf(sealed, 20), "chunk-a", 1 << 20));
    }
}
