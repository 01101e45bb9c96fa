package dev.strata.common.grpc;

import dev.strata.common.Validate;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request the protobuf parser refuses (truncated, a string that is not UTF-8, a field of the
 * wrong type) is the caller's mistake, INVALID_ARGUMENT, not the INTERNAL or UNKNOWN gRPC would
 * answer. It runs over a service whose messages are still streams
 * ({@code ServerInterceptors.useInputStreamMessages}): parsing happens inside the next listener's
 * {@code onMessage}, so whatever that throws is a parse failure, and the call ends there.
 */
final class RequestParsing implements ServerInterceptor {
    private static final Logger LOG = LoggerFactory.getLogger("dev.strata.rpc");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            private boolean refused;

            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } catch (RuntimeException e) {
                    refused = true;
                    String method = call.getMethodDescriptor().getFullMethodName();
                    String problem = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
                    LOG.info("{} status=INVALID_ARGUMENT message=\"request is not a valid message: {}\"", method,
                            Validate.escape(String.valueOf(problem)));
                    call.close(Status.INVALID_ARGUMENT.withDescription("request: not a valid " + method
                            + " message: " + Validate.escape(String.valueOf(problem))), new Metadata());
                }
            }

            @Override
            public void onHalfClose() {
                if (!refused) {
                    super.onHalfClose();
                }
            }
        };
    }
}
