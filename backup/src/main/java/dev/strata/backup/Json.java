package dev.strata.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.common.io.StoredJson;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Reads and writes everything the repository stores, in Strata's one stored mapping
 * ({@link StoredJson}: unknown fields ignored, instants as ISO-8601 text), leaving out nulls.
 */
final class Json {
    private Json() {}

    static final ObjectMapper MAPPER = StoredJson.mapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);

    static byte[] write(Object value) throws IOException {
        return MAPPER.writeValueAsBytes(value);
    }

    /** Writes {@code value} to {@code out}, which it leaves open. */
    static void write(Object value, OutputStream out) throws IOException {
        try (JsonGenerator generator = MAPPER.getFactory().createGenerator(out)) {
            generator.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            MAPPER.writeValue(generator, value);
        }
    }

    /** Parses stored JSON; anything unreadable is CORRUPT, naming {@code what}. */
    static <T> T read(byte[] json, Class<T> type, String what) throws BackupException {
        try {
            T value = MAPPER.readValue(json, type);
            if (value == null) {
                throw new BackupException(BackupException.Kind.CORRUPT, what + " is empty");
            }
            return value;
        } catch (IOException | RuntimeException e) {
            if (e instanceof BackupException be) {
                throw be;
            }
            throw new BackupException(BackupException.Kind.CORRUPT, what + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
