package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The least size a thin volume's filesystem gets is one the real mkfs makes with the engine's own
 * command, and a little less is one it refuses: the figures are the tools', not guesses. On sparse
 * files, so no pool and no root are needed (mkfs writes to a file as to a device).
 */
class ThinMinimumSizeTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs"})
    void theMinimumIsTheLeastMkfsMakes(String fs) throws Exception {
        assumeTrue(new CommandRunner().run("sh", "-c", "command -v mkfs." + fs).ok(), "mkfs." + fs + " is not here");
        long least = ThinParameters.minimumBytes(Map.of(ThinEngine.FS_TYPE_PARAMETER, fs), AccessType.MOUNT);
        ThinFilesystem filesystem = new ThinFilesystem(new CommandRunner(), null, null);
        filesystem.make(sparse("at-least", least).toString(), fs, null);
        // below it: 64 KiB for ext4 (1 MiB is its least), 1 MiB less for xfs
        long under = fs.equals("xfs") ? least - (1L << 20) : 64L << 10;
        assertThrows(IOException.class, () -> filesystem.make(sparse("under", under).toString(), fs, null));
    }

    @Test
    void ext4IsTheDefaultAndABlockVolumeHasNoMinimum() {
        assertEquals(ThinParameters.minimumBytes(Map.of(ThinEngine.FS_TYPE_PARAMETER, "ext4"), AccessType.MOUNT),
                ThinParameters.minimumBytes(Map.of(), AccessType.MOUNT));
        assertEquals(0, ThinParameters.minimumBytes(Map.of(ThinEngine.FS_TYPE_PARAMETER, "xfs"), AccessType.BLOCK));
    }

    private Path sparse(String name, long bytes) throws IOException {
        Path file = Files.createFile(tmp.resolve(name));
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return file;
    }
}
