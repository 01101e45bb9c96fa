package dev.strata.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import org.junit.jupiter.api.function.Executable;

/** Assertions on {@link CsiException}s, shared with the other modules' tests through the test jar. */
public final class CsiAssertions {
    private CsiAssertions() {}

    /** Asserts that {@code call} throws a CsiException with {@code code}, and returns it. */
    public static CsiException assertCsi(Status.Code code, Executable call) {
        CsiException e = assertThrows(CsiException.class, call);
        assertEquals(code, e.code(), () -> "unexpected code; message: " + e.getMessage());
        return e;
    }

    /** As {@link #assertCsi}, and the message starts with {@code prefix} (usually the field's name). */
    public static CsiException assertCsi(Status.Code code, String prefix, Executable call) {
        CsiException e = assertCsi(code, call);
        assertTrue(e.getMessage().startsWith(prefix), () -> "message should start with \"" + prefix + "\": "
                + e.getMessage());
        return e;
    }
}
