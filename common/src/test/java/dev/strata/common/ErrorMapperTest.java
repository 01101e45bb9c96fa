package dev.strata.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.strata.testing.CapturedLog;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ErrorMapperTest {
    /** Internal errors are logged as errors: kept for the assertions, off the console. */
    @RegisterExtension
    final CapturedLog log = new CapturedLog(ErrorMapper.class);

    @Test
    void csiExceptionKeepsItsCodeAndMessage() {
        Status s = ErrorMapper.toStatus(CsiException.notFound("volume vol-1 does not exist"));
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
        assertEquals("volume vol-1 does not exist", s.getDescription());

        Status bad = ErrorMapper.toStatus(CsiException.invalidArgument("name", "required"));
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getCode());
        assertEquals("name: required", bad.getDescription());

        for (Status.Code code : Status.Code.values()) {
            if (code != Status.Code.OK) {
                assertEquals(code, ErrorMapper.toStatus(new CsiException(code, "m")).getCode());
            }
        }
    }

    @Test
    void statusExceptionsPassThrough() {
        Status original = Status.UNAVAILABLE.withDescription("try later");
        assertSame(original, ErrorMapper.toStatus(new StatusRuntimeException(original)));
        assertSame(original, ErrorMapper.toStatus(new StatusException(original)));
    }

    @Test
    void illegalArgumentIsInvalidArgument() {
        Status s = ErrorMapper.toStatus(new IllegalArgumentException("bad input"));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("bad input", s.getDescription());
        // NumberFormatException is an IllegalArgumentException too
        assertEquals(Status.Code.INVALID_ARGUMENT,
                ErrorMapper.toStatus(new NumberFormatException("For input string")).getCode());
    }

    @Test
    void fileErrors() {
        // INTERNAL, never NOT_FOUND: to a CO, NOT_FOUND says the volume is gone
        Status missing = ErrorMapper.toStatus(new NoSuchFileException("/x/y"));
        assertEquals(Status.Code.INTERNAL, missing.getCode());
        assertTrue(missing.getDescription().contains("/x/y"));
        Status wrapped = ErrorMapper.toStatus(new UncheckedIOException(new NoSuchFileException("/x/w")));
        assertEquals(Status.Code.INTERNAL, wrapped.getCode());
        assertEquals("missing file on the node: /x/w", wrapped.getDescription());
        Status denied = ErrorMapper.toStatus(new AccessDeniedException("/root/z"));
        assertEquals(Status.Code.PERMISSION_DENIED, denied.getCode());
        assertTrue(denied.getDescription().contains("/root/z"));
    }

    @Test
    void unknownFailuresAreInternal() {
        IllegalStateException boom = new IllegalStateException("boom");
        Status s = ErrorMapper.toStatus(boom);
        assertEquals(Status.Code.INTERNAL, s.getCode());
        assertTrue(s.getDescription().startsWith("internal error: "), s.getDescription());
        assertTrue(s.getDescription().contains("boom"));
        assertSame(boom, s.getCause());

        Status io = ErrorMapper.toStatus(new IOException("disk on fire"));
        assertEquals(Status.Code.INTERNAL, io.getCode());
        assertTrue(io.getDescription().startsWith("I/O error: "), io.getDescription());

        Status unwrapped = ErrorMapper.toStatus(new UncheckedIOException(new IOException("x")));
        assertEquals(Status.Code.INTERNAL, unwrapped.getCode());
        assertEquals("I/O error: java.io.IOException: x", unwrapped.getDescription());
        assertEquals(Status.Code.INTERNAL, ErrorMapper.toStatus(new NullPointerException()).getCode());
        assertEquals(Status.Code.INTERNAL, ErrorMapper.toStatus(new AssertionError("oops")).getCode());

        // each with its stack in the log, where the status has only its message
        List<ILoggingEvent> logged = log.at(Level.ERROR);
        assertEquals(List.of("IllegalStateException", "IOException", "IOException", "NullPointerException",
                "AssertionError"), logged.stream().map(e -> e.getThrowableProxy().getClassName())
                        .map(c -> c.substring(c.lastIndexOf('.') + 1)).toList());
        assertTrue(logged.stream().allMatch(e -> e.getFormattedMessage().equals("internal error")), logged::toString);
    }

    @Test
    void expectedFailuresAreNotLogged() {
        ErrorMapper.toStatus(CsiException.notFound("x"));
        ErrorMapper.toStatus(new IllegalArgumentException("bad input"));
        assertEquals(List.of(), log.at(Level.ERROR));
    }
}
