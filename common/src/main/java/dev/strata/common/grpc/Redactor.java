package dev.strata.common.grpc;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.strata.csi.v1.CsiProto;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a CSI message safe to log: every field the spec marks {@code csi_secret} is dropped (a secret
 * string becomes a placeholder), at any depth. Messages without secrets come back as they are.
 */
public final class Redactor {
    static final String PLACEHOLDER = "***stripped***";

    private Redactor() {}

    public static Message redact(Message message) {
        Message.Builder builder = null;
        for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
            Object replacement = redactedValue(message, field);
            if (replacement != null) {
                if (builder == null) {
                    builder = message.toBuilder();
                }
                builder.setField(field, replacement);
            }
        }
        return builder == null ? message : builder.build();
    }

    /** The value that should replace this field, or null when it may be logged as it is. */
    private static Object redactedValue(Message message, FieldDescriptor field) {
        boolean present = field.isRepeated() ? message.getRepeatedFieldCount(field) > 0 : message.hasField(field);
        if (!present) {
            return null;
        }
        if (field.getOptions().getExtension(CsiProto.csiSecret)) {
            return field.isRepeated() ? List.of() : field.getJavaType() == FieldDescriptor.JavaType.STRING
                    ? PLACEHOLDER : field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                    ? ((Message) message.getField(field)).getDefaultInstanceForType() : field.getDefaultValue();
        }
        if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || field.isMapField()) {
            return null;
        }
        if (!field.isRepeated()) {
            Message value = (Message) message.getField(field);
            Message redacted = redact(value);
            return redacted == value ? null : redacted;
        }
        List<?> items = (List<?>) message.getField(field);
        List<Message> redacted = new ArrayList<>(items.size());
        boolean changed = false;
        for (Object item : items) {
            Message r = redact((Message) item);
            changed |= r != item;
            redacted.add(r);
        }
        return changed ? redacted : null;
    }
}
