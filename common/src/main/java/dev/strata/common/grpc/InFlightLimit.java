package dev.strata.common.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound on the calls in flight, so that a flood of requests cannot exhaust a small heap: a call
 * beyond it ends at once with UNAVAILABLE (which every CSI caller retries), before its message is
 * read. Each call holds its place from its start until it is closed or cancelled.
 */
final class InFlightLimit implements ServerInterceptor {
    private static final Logger LOG = LoggerFactory.getLogger("dev.strata.rpc");
    private final Semaphore places;
    private final int limit;

    InFlightLimit(int limit) {
        this.places = new Semaphore(limit);
        this.limit = limit;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        if (!places.tryAcquire()) {
            LOG.warn("{} refused: {} calls in flight, the limit", call.getMethodDescriptor().getFullMethodName(), limit);
            call.close(Status.UNAVAILABLE.withDescription("the driver has " + limit
                    + " calls in flight, its limit; try again"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                places.release();
            }
        };
        ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                release.run();
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(counted, headers);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                release.run();
                super.onCancel();
            }

            @Override
            public void onComplete() {
                release.run();
                super.onComplete();
            }
        };
    }
}
