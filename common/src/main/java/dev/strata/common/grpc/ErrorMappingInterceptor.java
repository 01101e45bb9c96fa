package dev.strata.common.grpc;

import dev.strata.common.ErrorMapper;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Lets service methods simply throw: whatever escapes a unary handler is closed with the status that
 * {@link ErrorMapper} chooses, instead of gRPC's opaque UNKNOWN.
 */
public final class ErrorMappingInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        ServerCall.Listener<Q> delegate = next.startCall(call, headers);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            @Override
            public void onHalfClose() {
                try {
                    super.onHalfClose();
                } catch (RuntimeException | Error e) {
                    call.close(ErrorMapper.toStatus(e), new Metadata());
                }
            }
        };
    }
}
