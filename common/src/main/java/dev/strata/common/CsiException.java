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
