package dev.strata.node.engine.hostpath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.MountScratch;
import dev.strata.node.mount.Mounter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A restore from a backup fills a hostpath volume without writing by path into the host directory,
 * which a pod of a volume above it may be changing: it fills a tree of the engine's own, then that
 * tree is copied in, sandboxed, through the directory's handle.
 */
class HostPathFillTest {
    @RegisterExtension
    final MountScratch scratch = new MountScratch("bind mounts and the copy's sandbox");

    @Test
    void aFillWritesTheEnginesOwnTreeAndTheVolumeGetsItWithItsModes() throws Exception {
        Path root = Files.createDirectories(scratch.dir().resolve("host"));
        Path engineRoot = scratch.dir().resolve("engine");
        HostPathEngine engine = new HostPathEngine(engineRoot, new HostPaths(List.of(root)), new Mounter(),
                new CommandRunner());
        VolumeRecord volume = new VolumeRecord("vol-db", "db", HostPathEngine.NAME, 1L << 20, AccessType.MOUNT,
                Map.of(), Map.of(), null, "node-1", List.of(), RecordState.CREATING, Instant.now(), Map.of());
        engine.create(volume);
        Path[] given = new Path[1];
        boolean[] writesTheVolume = new boolean[1];
        String filled = engine.fillVolume(volume.id(), tree -> {
            given[0] = tree;
            writesTheVolume[0] = Files.isSameFile(tree, root.resolve("db")); // a view of the host directory
            Files.createDirectories(tree.resolve("a/b"));
            Files.writeString(tree.resolve("a/b/table"), "rows");
            Files.setPosixFilePermissions(tree, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-x---"));
            return "summary";
        });
        assertEquals("summary", filled);
        assertFalse(writesTheVolume[0], "the fill wrote the host directory itself, at " + given[0]);
        assertTrue(given[0].startsWith(engineRoot.toRealPath()), "filled at " + given[0]);
        assertFalse(Files.exists(given[0]), "the engine's tree is gone once copied");
        Path onHost = root.resolve("db");
        assertEquals("rows", Files.readString(onHost.resolve("a/b/table")));
        assertEquals("rwxr-x---", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(onHost)), "the tree's own mode, as a restore in place gave it");

        // A fill a crash cut off is swept when the engine starts again.
        Path leftover = Files.createDirectories(engineRoot.resolve("filling/fill-123/x"));
        new HostPathEngine(engineRoot, new HostPaths(List.of(root)), new Mounter(), new CommandRunner());
        assertFalse(Files.exists(leftover.getParent()));
        try (Stream<Path> left = Files.list(root)) {
            assertEquals(List.of(onHost), left.toList());
        }
    }
}
