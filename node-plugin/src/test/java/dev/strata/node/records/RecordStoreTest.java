package dev.strata.node.records;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Attachment;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.VolumeRecord;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordStoreTest {
    @TempDir
    Path dir;

    /** Syncs READY records only, as LocalStorage does; both paths of put() are exercised. */
    private RecordStore<VolumeRecord> open() throws IOException {
        return new RecordStore<>(dir.resolve("volumes"), VolumeRecord.class, VolumeRecord::id,
                v -> v.state() == RecordState.READY);
    }

    private static VolumeRecord volume(String id) {
        return new VolumeRecord(id, "pvc-" + id, "dir", 1L << 30, AccessType.MOUNT, Map.of("engine", "dir"), Map.of(),
                null, "node-1", List.of(), RecordState.READY, Instant.parse("2024-05-01T10:00:00Z"),
                Map.of());
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("volumes"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void putGetRemove() throws IOException {
        RecordStore<VolumeRecord> store = open();
        assertEquals(Optional.empty(), store.get("vol-a"));
        store.put(volume("vol-a"));
        assertEquals(Optional.of(volume("vol-a")), store.get("vol-a"));
        assertEquals(List.of("vol-a.json"), files());

        VolumeRecord updated = volume("vol-a").withState(RecordState.DELETING);
        store.put(updated);
        assertEquals(RecordState.DELETING, store.get("vol-a").orElseThrow().state());
        assertEquals(List.of("vol-a.json"), files(), "an update replaces the file and leaves no temporary");

        store.remove("vol-a");
        assertEquals(Optional.empty(), store.get("vol-a"));
        assertEquals(List.of(), files());
        store.remove("vol-a"); // removing a missing record is fine
        assertEquals(List.of(), store.all());
    }

    @Test
    void allIsSortedById() throws IOException {
        RecordStore<VolumeRecord> store = open();
        for (String id : List.of("vol-c", "vol-a", "vol-b", "vol-10", "vol-1")) {
            store.put(volume(id));
        }
        assertEquals(List.of("vol-1", "vol-10", "vol-a", "vol-b", "vol-c"),
                store.all().stream().map(VolumeRecord::id).toList());
    }

    @Test
    void recordsSurviveANewInstance() throws IOException {
        RecordStore<VolumeRecord> first = open();
        first.put(volume("vol-a"));
        first.put(volume("vol-b"));
        first.remove("vol-b");
        RecordStore<VolumeRecord> second = open();
        assertEquals(List.of(volume("vol-a")), second.all());
    }

    @Test
    void leftoverTemporaryFileIsDeletedAtLoad() throws IOException {
        RecordStore<VolumeRecord> store = open();
        store.put(volume("vol-a"));
        Files.writeString(dir.resolve("volumes/.vol-b.tmp"), "{\"id\": \"vol-b\", \"trunc");
        Files.writeString(dir.resolve("volumes/.vol-a.tmp"), "{}");
        Files.writeString(dir.resolve("volumes/notes.txt"), "not a record");
        RecordStore<VolumeRecord> reopened = open();
        assertEquals(List.of(volume("vol-a")), reopened.all());
        assertEquals(List.of("notes.txt", "vol-a.json"), files());
    }

    /** What a power cut leaves of a write that was not synced: an empty or half file. The start goes on. */
    @Test
    void aTornRecordIsSetAsideAndTheRestLoad() throws IOException {
        RecordStore<VolumeRecord> store = open();
        store.put(volume("vol-a"));
        Files.writeString(dir.resolve("volumes/vol-b.json"), "");
        Files.writeString(dir.resolve("volumes/vol-c.json"), "{\"id\": \"vol-c\", \"na");
        RecordStore<VolumeRecord> reopened = open();
        assertEquals(List.of(volume("vol-a")), reopened.all());
        assertEquals(List.of("vol-a.json", "vol-b.json.unreadable", "vol-c.json.unreadable"), files());
    }

    @Test
    void idIsValidatedBeforeAnyFileIsWritten() throws IOException {
        RecordStore<VolumeRecord> store = open();
        assertCsi(Code.INVALID_ARGUMENT, "id:", () -> store.put(volume("../x")));
        assertCsi(Code.INVALID_ARGUMENT, "id:", () -> store.put(volume("a/b")));
        assertCsi(Code.INVALID_ARGUMENT, "id:", () -> store.put(volume(".hidden")));
        assertCsi(Code.INVALID_ARGUMENT, "id:", () -> store.put(volume("")));
        assertCsi(Code.INVALID_ARGUMENT, "id:", () -> store.remove("../volumes/x"));
        assertEquals(List.of(), files());
        assertFalse(Files.exists(dir.resolve("x.json")));
        assertFalse(Files.exists(dir.resolve(".x.tmp")));
        assertEquals(List.of(), store.all());
    }

    @Test
    void nestedRecordsAndInstantsRoundTrip() throws IOException {
        Instant created = Instant.parse("2025-02-03T04:05:06.123456789Z");
        VolumeRecord full = new VolumeRecord("vol-full", "pvc with spaces ☃", "dir", 5L << 30, AccessType.MOUNT,
                Map.of("engine", "dir", "mode", "0750", "csi.storage.k8s.io/pvc/name", "data"),
                Map.of("uid", "1000"), ContentSource.snapshot("snap-1"), "node-1",
                List.of(new Attachment("node-1", true, AccessMode.SINGLE_NODE_READER_ONLY),
                        new Attachment("node-2", false, AccessMode.SINGLE_NODE_WRITER)),
                RecordState.CREATING, created, Map.of("sizeLimit", "loop-ext4"));
        VolumeRecord clone = full.withAttachments(List.of()).withState(RecordState.READY);
        VolumeRecord cloneOfVolume = new VolumeRecord("vol-clone", "c", "dir", 1, AccessType.BLOCK, Map.of(), Map.of(),
                ContentSource.volume("vol-full"), "node-1", List.of(), RecordState.READY, Instant.now(),
                Map.of());
        RecordStore<VolumeRecord> store = open();
        store.put(full);
        store.put(cloneOfVolume);
        RecordStore<VolumeRecord> reopened = open();
        assertEquals(full, reopened.get("vol-full").orElseThrow());
        assertEquals(created, reopened.get("vol-full").orElseThrow().createdAt());
        assertEquals(cloneOfVolume, reopened.get("vol-clone").orElseThrow());
        assertEquals(ContentSource.Kind.VOLUME, reopened.get("vol-clone").orElseThrow().source().kind());
        assertFalse(clone.equals(full));
        String json = Files.readString(dir.resolve("volumes/vol-full.json"));
        assertTrue(json.contains("2025-02-03T04:05:06.123456789Z"), "instants are written as ISO text: " + json);
    }

    @Test
    void durableAndNonDurableWritesBothPersist() throws IOException {
        RecordStore<VolumeRecord> never = new RecordStore<>(dir.resolve("volumes"), VolumeRecord.class,
                VolumeRecord::id, v -> false);
        RecordStore<VolumeRecord> always = new RecordStore<>(dir.resolve("volumes"), VolumeRecord.class,
                VolumeRecord::id, v -> true);
        never.put(volume("vol-a").withState(RecordState.CREATING));
        always.put(volume("vol-b"));
        assertEquals(List.of(volume("vol-a").withState(RecordState.CREATING), volume("vol-b")), open().all());
        assertEquals(List.of("vol-a.json", "vol-b.json"), files());
    }

    @Test
    void unknownJsonPropertiesAreIgnored() throws IOException {
        Files.createDirectories(dir.resolve("volumes"));
        RecordStore<VolumeRecord> writer = open();
        writer.put(volume("vol-a"));
        Path file = dir.resolve("volumes/vol-a.json");
        String json = Files.readString(file).replaceFirst("\\{", "{\"addedInAFutureVersion\": 42,");
        Files.writeString(file, json);
        assertEquals(volume("vol-a"), open().get("vol-a").orElseThrow());
    }
}
