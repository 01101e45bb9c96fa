package dev.strata.node.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.model.AccessMode;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.MountTables;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountRecordsTest {
    @TempDir
    Path tmp;

    private Path base;
    private MountRecords state;

    @BeforeEach
    void setUp() throws IOException {
        base = tmp.toRealPath();
        state = new MountRecords(base.resolve("records/node"));
    }

    private static Publication publication(Path target) {
        return new Publication(target.toString(), null, false, AccessMode.SINGLE_NODE_WRITER, List.of("noatime"));
    }

    @Test
    void putGetAndInUse() throws IOException {
        assertEquals(MountRecord.empty("vol-1"), state.get("vol-1"));
        assertFalse(state.inUse("vol-1"));
        assertEquals(Optional.empty(), state.find("vol-1"));
        MountRecord staged = MountRecord.empty("vol-1").staged("/staging/vol-1", null,
                AccessMode.SINGLE_NODE_WRITER, List.of());
        state.put(staged);
        assertTrue(state.inUse("vol-1"));
        assertEquals(1, state.volumesInUse());
        assertEquals(staged, new MountRecords(base.resolve("records/node")).get("vol-1"), "kept on disk");
        state.put(staged.unstaged());
        assertFalse(state.inUse("vol-1"));
        assertEquals(Optional.empty(), state.find("vol-1"), "an unused volume has no record");
        assertEquals(0, state.volumesInUse());
        assertEquals(Optional.empty(), new MountRecords(base.resolve("records/node")).find("vol-1"));
    }

    @Test
    void reconcileDropsRecordsOfMissingMounts() throws IOException {
        Path staging = Files.createDirectories(base.resolve("staging/vol-1"));
        Path target = Files.createDirectories(base.resolve("pods/p1/vol-1"));
        state.put(MountRecord.empty("vol-1").staged(staging.toString(), null, AccessMode.SINGLE_NODE_WRITER, List.of())
                .with(publication(target)));

        state.reconcile(MountTables.of(MountTables.bindLine(27, "/", "/")));

        assertEquals(Optional.empty(), state.find("vol-1"));
        assertFalse(Files.exists(target), "the empty target directory of a dropped publication is removed");
        assertTrue(Files.isDirectory(staging), "staging directories are the CO's, left in place");
        assertEquals(Optional.empty(), new MountRecords(base.resolve("records/node")).find("vol-1"), "dropped on disk too");
    }

    @Test
    void reconcileKeepsWhatIsMountedAndLeavesNonEmptyTargets() throws IOException {
        Path staging = Files.createDirectories(base.resolve("staging/vol-1"));
        Path mounted = Files.createDirectories(base.resolve("pods/p1/vol-1"));
        Path gone = Files.createDirectories(base.resolve("pods/p2/vol-1"));
        Files.writeString(gone.resolve("pod-data"), "not ours to delete");
        MountRecord v = MountRecord.empty("vol-1").staged(staging.toString(), null, AccessMode.SINGLE_NODE_WRITER, List.of())
                .with(publication(mounted)).with(publication(gone));
        state.put(v);
        MountRecord untouched = MountRecord.empty("vol-2").staged(base.resolve("staging/vol-2").toString(), null,
                AccessMode.SINGLE_NODE_READER_ONLY, List.of("ro"));
        state.put(untouched);

        MountTable mounts = MountTables.of(
                MountTables.bindLine(27, "/", "/"),
                MountTables.bindLine(100, "/engine/volumes/vol-1", staging.toString()),
                MountTables.bindLine(101, "/engine/volumes/vol-1", mounted.toString()),
                MountTables.bindLine(102, "/engine/volumes/vol-2", base.resolve("staging/vol-2").toString()));
        state.reconcile(mounts);

        MountRecord kept = state.find("vol-1").orElseThrow();
        assertEquals(staging.toString(), kept.stagingPath());
        assertEquals(List.of(publication(mounted)), kept.publications());
        assertEquals("not ours to delete", Files.readString(gone.resolve("pod-data")));
        assertEquals(untouched, state.find("vol-2").orElseThrow());
    }

    @Test
    void reconcileDropsOnlyTheStagingWhenPublicationsRemain() throws IOException {
        Path target = Files.createDirectories(base.resolve("pods/p1/vol-1"));
        state.put(MountRecord.empty("vol-1").staged(base.resolve("staging/vol-1").toString(), null,
                AccessMode.SINGLE_NODE_WRITER, List.of()).with(publication(target)));
        state.reconcile(MountTables.of(MountTables.bindLine(101, "/v", target.toString())));
        MountRecord kept = state.find("vol-1").orElseThrow();
        assertEquals(null, kept.stagingPath());
        assertEquals(List.of(publication(target)), kept.publications());
        assertTrue(Files.isDirectory(target));
    }

    @Test
    void reconcileWithRealMounts() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: bind mount");
        Mounter mounter = new Mounter();
        Path volume = Files.createDirectories(base.resolve("engine/volumes/vol-1"));
        Path staging = Files.createDirectories(base.resolve("staging/vol-1"));
        Path published = Files.createDirectories(base.resolve("pods/p1/vol-1"));
        Path lost = Files.createDirectories(base.resolve("pods/p2/vol-1"));
        Path unmountedStaging = Files.createDirectories(base.resolve("staging/vol-2"));
        Path unmountedTarget = Files.createDirectories(base.resolve("pods/p3/vol-2"));
        try {
            mounter.bind(volume, staging, BindOptions.NONE);
            mounter.bind(staging, published, BindOptions.NONE);
            state.put(MountRecord.empty("vol-1").staged(staging.toString(), null, AccessMode.SINGLE_NODE_WRITER, List.of())
                    .with(publication(published)).with(publication(lost)));
            state.put(MountRecord.empty("vol-2").staged(unmountedStaging.toString(), null, AccessMode.SINGLE_NODE_WRITER,
                    List.of()).with(publication(unmountedTarget)));

            state.reconcile(MountTable.read());

            MountRecord kept = state.find("vol-1").orElseThrow();
            assertEquals(staging.toString(), kept.stagingPath());
            assertEquals(List.of(publication(published)), kept.publications());
            assertFalse(Files.exists(lost));
            assertTrue(Files.isDirectory(published));
            assertTrue(MountTable.read().isMountPoint(published), "reconcile never unmounts");
            assertEquals(Optional.empty(), state.find("vol-2"));
            assertFalse(Files.exists(unmountedTarget));
        } finally {
            mounter.unmount(published);
            mounter.unmount(staging);
        }
        assertFalse(MountTable.read().isMountPoint(staging));
    }
}
