package dev.strata.node.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.strata.common.Validate;
import dev.strata.common.io.AtomicFile;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
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
    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(instantsAsText())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final String SUFFIX = ".json";

    private final Path dir;
    private final Class<T> type;
    private final Function<T, String> idOf;
    private final Predicate<T> durable;
    private final Map<String, T> cache = new ConcurrentHashMap<>();

    public RecordStore(Path dir, Class<T> type, Function<T, String> idOf, Predicate<T> durable) throws IOException {
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
                    T record = JSON.readValue(file.toFile(), type);
                    cache.put(idOf.apply(record), record);
                }
            }
        }
        LOG.debug("loaded {} {} records from {}", cache.size(), type.getSimpleName(), dir);
    }

    /**
     * Instants as ISO-8601 text. (jackson-datatype-jsr310 does the same with some 75 classes that
     * would stay loaded for the life of the driver; records need only this one type.)
     */
    private static SimpleModule instantsAsText() {
        return new SimpleModule("instants")
                .addSerializer(Instant.class, new StdSerializer<>(Instant.class) {
                    @Override
                    public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider)
                            throws IOException {
                        gen.writeString(value.toString());
                    }
                })
                .addDeserializer(Instant.class, new StdDeserializer<>(Instant.class) {
                    @Override
                    public Instant deserialize(JsonParser parser, DeserializationContext context) throws IOException {
                        return Instant.parse(parser.getValueAsString());
                    }
                });
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

    public void remove(String id) throws IOException {
        Files.deleteIfExists(dir.resolve(Validate.id("id", id) + SUFFIX));
        cache.remove(id);
    }
}
