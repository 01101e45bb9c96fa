package dev.strata.common.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The one JSON mapping for what Strata keeps: the node's records, the thin engine's device notes,
 * a backup target's objects. Unknown fields are ignored, so a driver rolled back to an older
 * release still reads what a newer one wrote (a thin pool whose notes it could not read would look
 * empty). Instants are ISO-8601 text, readable with jq.
 */
public final class StoredJson {
    private StoredJson() {}

    /** Each caller gets its own copy, free to add settings of its own (a backup leaves out nulls). */
    public static ObjectMapper mapper() {
        return new ObjectMapper()
                .registerModule(instantsAsText())
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /**
     * Instants as ISO-8601 text. (jackson-datatype-jsr310 does the same with some 75 classes that
     * would stay loaded for the life of the driver; what is stored needs only this one type.)
     */
    private static SimpleModule instantsAsText() {
        return new SimpleModule("strata-instants")
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
                        try {
                            return Instant.parse(parser.getValueAsString());
                        } catch (DateTimeParseException | NullPointerException e) {
                            throw context.weirdStringException(parser.getText(), Instant.class,
                                    "not an ISO-8601 instant");
                        }
                    }
                });
    }
}
