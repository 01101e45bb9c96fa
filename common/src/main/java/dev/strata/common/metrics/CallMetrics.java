package dev.strata.common.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Every CSI call's latency, by method and the gRPC code it ended with, and the calls in flight. The
 * outermost interceptor of a {@code CsiServer}, so it counts every call, those the server refuses
 * (UNAVAILABLE past its limit, INVALID_ARGUMENT for a request that does not parse) included. The
 * method label is the service's method as the server knows it, never a string from the caller: an
 * unknown method never reaches an interceptor.
 */
public final class CallMetrics implements ServerInterceptor {
    /** From 1 ms (a Probe) to a minute (a copy-based snapshot of a large volume). */
    static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final Histogram duration;
    private final Gauge inFlight;

    public CallMetrics(PrometheusRegistry registry) {
        duration = Histogram.builder()
                .name("strata_csi_request_duration_seconds")
                .help("CSI calls served: latency by method and gRPC code (the _count is the number of calls)")
                .labelNames("method", "code")
                .classicOnly()
                .classicUpperBounds(BUCKETS)
                .register(registry);
        inFlight = Gauge.builder()
                .name("strata_csi_requests_in_flight")
                .help("CSI calls being served now")
                .register(registry);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String method = method(call.getMethodDescriptor().getFullMethodName());
        long start = System.nanoTime();
        AtomicBoolean done = new AtomicBoolean();
        inFlight.inc();
        java.util.function.Consumer<Status.Code> end = code -> {
            if (done.compareAndSet(false, true)) {
                inFlight.dec();
                duration.labelValues(method, code.name()).observe((System.nanoTime() - start) / 1e9);
            }
        };
        ServerCall<Q, R> timed = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                end.accept(status.getCode());
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(timed, headers);
        } catch (RuntimeException e) {
            end.accept(Status.Code.INTERNAL);
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                end.accept(Status.Code.CANCELLED);
                super.onCancel();
            }
        };
    }

    /** "csi.v1.Controller/CreateVolume" becomes "Controller/CreateVolume". */
    static String method(String fullMethodName) {
        int dot = fullMethodName.lastIndexOf('.', fullMethodName.indexOf('/'));
        return fullMethodName.substring(dot + 1);
    }
}
