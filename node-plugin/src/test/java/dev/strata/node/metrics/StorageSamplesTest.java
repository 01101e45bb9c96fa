package dev.strata.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import dev.strata.node.storage.Engines;
import dev.strata.node.storage.LocalStorage;
import dev.strata.node.storage.StorageConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The node's storage as metrics, on a real dir engine. */
@Timeout(120)
class StorageSamplesTest {
    @TempDir
    Path tmp;

    private static double value(List<Sample> samples, String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels))
                .mapToDouble(Sample::value).findFirst()
                .orElseThrow(() -> new AssertionError(name + labels + " missing from " + samples));
    }

    @Test
    void reportsCapacityRecordsAndTrashOfEachEngine() throws Exception {
        Path dataDir = tmp.toRealPath();
        StorageConfig config = new StorageConfig(dataDir, "node-1", DirEngine.NAME, StorageConfig.GIB, 3);
        DirEngine engine = new DirEngine(dataDir.resolve("engines/dir"), new Mounter(), new CommandRunner());
        Engines engines = new Engines(Map.<String, VolumeEngine>of(DirEngine.NAME, engine), Map.of());
        LocalStorage storage = new LocalStorage(config, engines, new MountRecords(dataDir.resolve("records/node")),
                new LockTable());
        StorageSamples source = new StorageSamples(storage, engines);
        Map<String, String> dir = Map.of("engine", "dir");

        List<Sample> empty = source.samples();
        assertEquals(0, value(empty, "strata_volumes", Map.of("engine", "dir", "state", "READY")));
        assertEquals(0, value(empty, "strata_engine_provisioned_bytes", dir));
        assertTrue(value(empty, "strata_engine_available_bytes", dir) > 0);
        assertTrue(value(empty, "strata_engine_capacity_bytes", dir) >= value(empty, "strata_engine_available_bytes",
                dir));

        VolumeRecord a = storage.createVolume(spec("a", 2 * StorageConfig.GIB));
        storage.createVolume(spec("b", StorageConfig.GIB));
        storage.createSnapshot("snap-of-a", a.id(), Map.of(), Secrets.NONE);
        List<Sample> two = source.samples();
        assertEquals(2, value(two, "strata_volumes", Map.of("engine", "dir", "state", "READY")));
        assertEquals(0, value(two, "strata_volumes", Map.of("engine", "dir", "state", "CREATING")));
        assertEquals(1, value(two, "strata_snapshots", Map.of("engine", "dir", "state", "READY")));
        assertEquals(3 * StorageConfig.GIB, value(two, "strata_engine_provisioned_bytes", dir));
        assertEquals(0, value(two, "strata_volumes_abnormal", dir));
        assertEquals(0, value(two, "strata_trash_entries", dir));

        storage.deleteVolume(a.id());
        engine.drainTrash();
        List<Sample> one = source.samples();
        assertEquals(1, value(one, "strata_volumes", Map.of("engine", "dir", "state", "READY")));
        assertEquals(StorageConfig.GIB, value(one, "strata_engine_provisioned_bytes", dir));
        assertEquals(0, value(one, "strata_trash_entries", dir));
        assertEquals(0, value(one, "strata_trash_bytes", dir));
        engine.close();
    }

    private static VolumeSpec spec(String name, long bytes) {
        return new VolumeSpec(name, bytes, 0, AccessType.MOUNT, Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(),
                Map.of(), null, List.of());
    }
}
