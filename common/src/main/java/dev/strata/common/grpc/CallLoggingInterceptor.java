package dev.strata.common.grpc;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.strata.common.Validate;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every call once it ends: method, the object it was about, status and duration. At DEBUG the
 * request and response follow, with secrets redacted.
 */
public final class CallLoggingInterceptor implements ServerInterceptor {
    private static final Logger LOG = LoggerFactory.getLogger("dev.strata.rpc");
    /** Fields that name what a call is about, in the order they are looked for. */
    private static final String[] SUBJECT_FIELDS = {"volume_id", "snapshot_id", "source_volume_id", "name"};
    /**
     * Each request type's subject fields, looked up once: a lookup by name per call, and
     * String.format for the duration, were a fifth of a call's CPU in {@code bench lifecycle}.
     */
    private static final Map<Descriptor, List<FieldDescriptor>> SUBJECTS = new ConcurrentHashMap<>();

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        long start = System.nanoTime();
        String method = call.getMethodDescriptor().getFullMethodName().replace("csi.v1.", "");
        Object[] exchange = new Object[2]; // request, response
        ServerCall<Q, R> logged = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                exchange[1] = message;
                super.sendMessage(message);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                log(method, exchange[0], exchange[1], status, System.nanoTime() - start);
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(logged, headers)) {
            @Override
            public void onMessage(Q message) {
                exchange[0] = message;
                super.onMessage(message);
            }
        };
    }

    private static void log(String method, Object request, Object response, Status status, long nanos) {
        String subject = request instanceof Message m ? subject(m) : "";
        String millis = millis(nanos);
        if (status.isOk()) {
            LOG.info("{} {}status=OK duration_ms={}", method, subject, millis);
        } else {
            LOG.info("{} {}status={} duration_ms={} message=\"{}\"", method, subject, status.getCode(),
                    millis, Validate.escape(String.valueOf(status.getDescription())));
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} request={{{}}} response={{{}}}", method, printable(request), printable(response));
        }
    }

    static String subject(Message message) {
        StringBuilder out = new StringBuilder();
        for (FieldDescriptor field : SUBJECTS.computeIfAbsent(message.getDescriptorForType(),
                CallLoggingInterceptor::subjectFields)) {
            String value = (String) message.getField(field);
            if (!value.isEmpty()) {
                out.append(field.getName()).append('=').append(Validate.escape(value)).append(' ');
            }
        }
        return out.toString();
    }

    private static List<FieldDescriptor> subjectFields(Descriptor type) {
        return Stream.of(SUBJECT_FIELDS).map(type::findFieldByName).filter(Objects::nonNull)
                .filter(f -> f.getJavaType() == FieldDescriptor.JavaType.STRING && !f.isRepeated()).toList();
    }

    /** Milliseconds with two decimals, as {@code %.2f} would print them (half up). */
    static String millis(long nanos) {
        long hundredths = Math.max(0, (nanos + 5_000) / 10_000);
        long fraction = hundredths % 100;
        return hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
    }

    private static String printable(Object message) {
        return message instanceof Message m ? TextFormat.printer().shortDebugString(Redactor.redact(m)) : "";
    }
}
