package dev.strata.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.function.Executable;

/** Assertions on the gRPC status of a failed call. */
public final class CsiAssert {
    private CsiAssert() {}

    /** The call fails with {@code code}; returns the failure. */
    public static StatusRuntimeException assertStatus(Status.Code code, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call,
                "expected the call to fail with " + code);
        assertEquals(code, e.getStatus().getCode(), () -> "status of the failed call: " + e.getStatus());
        return e;
    }

    /** The call fails with {@code code} and its description names {@code field}, as a caller needs to fix it. */
    public static StatusRuntimeException assertStatus(Status.Code code, String field, Executable call) {
        StatusRuntimeException e = assertStatus(code, call);
        String description = e.getStatus().getDescription();
        assertNotNull(description, "the status has no description");
        assertTrue(description.contains(field), () -> "description should name " + field + ": " + description);
        return e;
    }
}
