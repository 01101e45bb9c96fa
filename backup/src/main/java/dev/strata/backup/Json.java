package dev.strata.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The one JSON mapping for everything the repository stores. Instants are ISO-8601 strings, so the
 * stored objects stay readable with jq after decoding; unknown fields are ignored so that a newer
 * writer's additions do not break an older reader.
 */
final class Json {
    private Json() {}

    static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(instants())
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

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

    private static SimpleModule instants() {
        SimpleModule module = new SimpleModule("strata-instants");
        module.addSerializer(Instant.class, new JsonSerializer<>() {
            @Override
            public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                gen.writeString(value.toString());
            }
        });
        module.addDeserializer(Instant.class, new JsonDeserializer<>() {
            @Override
            public Instant deserialize(JsonParser parser, DeserializationContext context) throws IOException {
                try {
                    return Instant.parse(parser.getValueAsString());
                } catch (DateTimeParseException | NullPointerException e) {
                    throw context.weirdStringException(parser.getText(), Instant.class, "not an ISO-8601 instant");
                }
            }
        });
        return module;
    }
}
