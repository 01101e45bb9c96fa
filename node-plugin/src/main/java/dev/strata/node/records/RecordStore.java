package dev.strata.node.records;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.common.Validate;
import dev.strata.common.io.AtomicFile;
import dev.strata.common.io.StoredJson;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records of one kind, one JSON file each ({@code <id>.json}) in one directory, cached in memory.
 * Each write is an {@link AtomicFile}, so a record is always either its old or its new self,
 * whenever the process dies. Surviving a power loss as well costs two fsyncs (file and directory),
 * which under concurrent load take milliseconds each; only records whose loss would lose data are
 * synced ({@code durable}), e.g. a volume that became ready. Records that describe mounts are not:
 * a power loss takes the mounts with it.
 */
public final class RecordStore<T> {
    private static final Logger LOG = LoggerFactory.getLogger(RecordStore.class);
    static final ObjectMapper JSON = StoredJson.mapper();
    private static final String SUFFIX = ".json";

    private final Path dir;
    private final Class<T> type;
    private final Function<T, String> idOf;
    private final Predicate<T> durable;
    private final boolean syncRemovals;
    private final Map<String, T> cache = new ConcurrentHashMap<>();

    public RecordStore(Path dir, Class<T> type, Function<T, String> idOf, Predicate<T> durable) throws IOException {
        this(dir, type, idOf, durable, true);
    }

    /** Records whose loss costs nothing after a power cut (mounts, which the power cut took too): never synced. */
    public static <T> RecordStore<T> crashOnly(Path dir, Class<T> type, Function<T, String> idOf) throws IOException {
        return new RecordStore<>(dir, type, idOf, r -> false, false);
    }

    private RecordStore(Path dir, Class<T> type, Function<T, String> idOf, Predicate<T> durable, boolean syncRemovals)
            throws IOException {
        this.syncRemovals = syncRemovals;
        this.dir = Files.createDirectories(dir);
        this.type = type;
        this.idOf = idOf;
        this.durable = durable;
        load();
    }

    private void load() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (AtomicFile.isTemporary(name)) {
                    Files.deleteIfExists(file); // a write that never reached its rename
                } else if (name.endsWith(SUFFIX)) {
                    read(file).ifPresent(record -> cache.put(idOf.apply(record), record));
                }
            }
        }
        LOG.debug("loaded {} {} records from {}", cache.size(), type.getSimpleName(), dir);
    }

    /**
     * A record as written, or none when the file is torn: a write that was not synced (a CREATING or
     * DELETING state, a mount) and a power cut left empty or half written. Such a record only guided
     * clean-up, which recovery redoes from what is on disk; the file is kept aside for a human, as
     * {@code NAME.unreadable}, and the start goes on (the power-cut suite found one).
     */
    private Optional<T> read(Path file) throws IOException {
        try {
            return Optional.of(JSON.readValue(file.toFile(), type));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            Path aside = file.resolveSibling(file.getFileName() + ".unreadable");
            LOG.warn("record {} is unreadable ({}); moved to {}", file, e.getOriginalMessage(), aside.getFileName());
            Files.move(file, aside, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return Optional.empty();
        }
    }

    public Optional<T> get(String id) {
        return Optional.ofNullable(cache.get(id));
    }

    /** All records, sorted by ID. */
    public List<T> all() {
        List<T> all = new ArrayList<>(cache.values());
        all.sort(Comparator.comparing(idOf));
        return all;
    }

    public void put(T record) throws IOException {
        String id = Validate.id("id", idOf.apply(record));
        AtomicFile.write(dir.resolve(id + SUFFIX), JSON.writeValueAsBytes(record),
                durable.test(record) ? AtomicFile.Durability.SYNCED : AtomicFile.Durability.CRASH_ONLY);
        cache.put(id, record);
    }

    /**
     * Removes the record, durably unless the store keeps nothing durable ({@link #crashOnly}): a
     * deleted volume whose READY record a power cut brought back would be a volume the CO was told
     * is gone (the power-cut suite found it).
     */
    public void remove(String id) throws IOException {
        Files.deleteIfExists(dir.resolve(Validate.id("id", id) + SUFFIX));
        if (cache.remove(id) != null && syncRemovals) {
            AtomicFile.syncDirectory(dir);
        }
    }
}
