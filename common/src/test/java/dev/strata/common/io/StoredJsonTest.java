package dev.strata.common.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StoredJsonTest {
    record Note(String name, Instant at) {}

    private final ObjectMapper json = StoredJson.mapper();

    @Test
    void instantsAreStoredAsIsoTextAndReadBack() throws Exception {
        Note note = new Note("vol-1", Instant.parse("2026-12-08T01:02:03.456789Z"));
        String written = json.writeValueAsString(note);
        assertEquals("{\"name\":\"vol-1\",\"at\":\"2026-12-08T01:02:03.456789Z\"}", written);
        assertEquals(note, json.readValue(written, Note.class));
    }

    @Test
    void fieldsALaterReleaseAddsAreIgnored() throws Exception {
        assertEquals(new Note("vol-1", null), json.readValue("{\"name\":\"vol-1\",\"later\":[1,2]}", Note.class));
    }

    @Test
    void anInstantThatIsNotIsoTextIsAJsonErrorNamingIt() {
        JacksonException e = assertThrows(JacksonException.class,
                () -> json.readValue("{\"name\":\"vol-1\",\"at\":\"yesterday\"}", Note.class));
        assertTrue(e.getMessage().contains("yesterday") && e.getMessage().contains("ISO-8601"), e.getMessage());
    }

    @Test
    void aCallersOwnSettingsStayItsOwn() throws Exception {
        StoredJson.mapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);
        assertEquals("{\"name\":\"vol-1\",\"at\":null}",
                StoredJson.mapper().writeValueAsString(new Note("vol-1", null)));
    }
}
