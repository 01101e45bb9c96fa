package dev.strata.common;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place where Java failures become gRPC statuses. */
public final class ErrorMapper {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);

    private ErrorMapper() {}

    /**
     * The status for {@code t}. Its message names what the caller sent (an ID, a path, a name), so its
     * control characters are escaped: a message is a log line for the caller's side too.
     */
    public static Status toStatus(Throwable t) {
        Status status = map(t);
        String description = status.getDescription();
        return description == null ? status : status.withDescription(Validate.escape(description));
    }

    private static Status map(Throwable thrown) {
        // An I/O error carried out of a lambda is the I/O error: unwrapped here, once, for every caller.
        Throwable t = thrown instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : thrown;
        if (t instanceof CsiException e) {
            return Status.fromCode(e.code()).withDescription(e.getMessage());
        }
        if (t instanceof StatusRuntimeException e) {
            return e.getStatus();
        }
        if (t instanceof StatusException e) {
            return e.getStatus();
        }
        if (t instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT.withDescription(t.getMessage());
        }
        if (t instanceof NoSuchFileException e) {
            // Never NOT_FOUND: to a CO that says the volume or snapshot is gone, and it acts on it. A
            // missing file of a volume that exists is the driver's failure (storage records answer
            // NOT_FOUND themselves, as CsiExceptions).
            LOG.error("internal error: a file is missing", e);
            return Status.INTERNAL.withDescription("missing file on the node: " + e.getFile()).withCause(e);
        }
        if (t instanceof AccessDeniedException e) {
            return Status.PERMISSION_DENIED.withDescription("permission denied: " + e.getFile());
        }
        // Anything else is a bug or an environment failure: say what it was, keep the stack in the log.
        LOG.error("internal error", t);
        String what = t instanceof IOException ? "I/O error: " : "internal error: ";
        return Status.INTERNAL.withDescription(what + t).withCause(t);
    }
}
