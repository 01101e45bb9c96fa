package dev.strata.common;

import io.grpc.Status;

/**
 * A failure that carries the CSI status code the spec names for it. Services and engines throw it;
 * {@link ErrorMapper} turns it (and anything else) into a gRPC status in one place.
 */
public final class CsiException extends RuntimeException {
    private final Status.Code code;

    public CsiException(Status.Code code, String message) {
        super(message);
        this.code = code;
    }

    public CsiException(Status.Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }

    /**
     * A failure whose code was written down by name (a node's status, a record): that code, or INTERNAL
     * for a name that is none (another version's, a hand edit) or that says OK, since a failure that
     * comes back is still one and the caller did nothing wrong.
     */
    public static CsiException named(String codeName, String message) {
        Status.Code code;
        try {
            code = Status.Code.valueOf(codeName == null ? "INTERNAL" : codeName);
        } catch (IllegalArgumentException e) {
            code = Status.Code.INTERNAL;
        }
        return new CsiException(code == Status.Code.OK ? Status.Code.INTERNAL : code, message);
    }

    public static CsiException invalidArgument(String field, String problem) {
        return new CsiException(Status.Code.INVALID_ARGUMENT, field + ": " + problem);
    }

    public static CsiException notFound(String what) {
        return new CsiException(Status.Code.NOT_FOUND, what);
    }

    public static CsiException alreadyExists(String what) {
        return new CsiException(Status.Code.ALREADY_EXISTS, what);
    }

    public static CsiException failedPrecondition(String what) {
        return new CsiException(Status.Code.FAILED_PRECONDITION, what);
    }

    public static CsiException outOfRange(String field, String problem) {
        return new CsiException(Status.Code.OUT_OF_RANGE, field + ": " + problem);
    }

    public static CsiException aborted(String what) {
        return new CsiException(Status.Code.ABORTED, what);
    }

    public static CsiException resourceExhausted(String what) {
        return new CsiException(Status.Code.RESOURCE_EXHAUSTED, what);
    }
}
