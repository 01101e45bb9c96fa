package dev.strata.common.model;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A volume as Strata keeps it. {@code state} says whether it is usable or half-way through a change;
 * {@code attachments} are its ControllerPublish calls; {@code attributes} are what its engine reports
 * about the storage it made (how the size is enforced, a device path, ...), shown in the volume context.
 */
public record VolumeRecord(String id, String name, String engine, long capacityBytes, AccessType accessType,
        Map<String, String> parameters, Map<String, String> mutableParameters, ContentSource source,
        String nodeId, List<Attachment> attachments, RecordState state, Instant createdAt,
        Map<String, String> attributes) {
    public VolumeRecord {
        parameters = Map.copyOf(parameters);
        mutableParameters = Map.copyOf(mutableParameters);
        attachments = List.copyOf(attachments);
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes); // records written before it existed
    }

    /** The StorageClass's parameters with the VolumeAttributesClass's (mutable parameters) over them. */
    public Map<String, String> effectiveParameters() {
        Map<String, String> merged = new HashMap<>(parameters);
        merged.putAll(mutableParameters);
        return Map.copyOf(merged);
    }

    public VolumeRecord withState(RecordState newState) {
        return new VolumeRecord(id, name, engine, capacityBytes, accessType, parameters, mutableParameters, source,
                nodeId, attachments, newState, createdAt, attributes);
    }

    public VolumeRecord withCapacity(long bytes) {
        return new VolumeRecord(id, name, engine, bytes, accessType, parameters, mutableParameters, source, nodeId,
                attachments, state, createdAt, attributes);
    }

    public VolumeRecord withMutableParameters(Map<String, String> values) {
        return new VolumeRecord(id, name, engine, capacityBytes, accessType, parameters, values, source, nodeId,
                attachments, state, createdAt, attributes);
    }

    public VolumeRecord withAttachments(List<Attachment> values) {
        return new VolumeRecord(id, name, engine, capacityBytes, accessType, parameters, mutableParameters, source,
                nodeId, values, state, createdAt, attributes);
    }

    public VolumeRecord withAttributes(Map<String, String> values) {
        return new VolumeRecord(id, name, engine, capacityBytes, accessType, parameters, mutableParameters, source,
                nodeId, attachments, state, createdAt, values);
    }
}
