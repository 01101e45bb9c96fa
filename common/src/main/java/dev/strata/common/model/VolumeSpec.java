package dev.strata.common.model;

import java.util.Map;
import java.util.Set;

/**
 * What a caller asked for in CreateVolume, already validated: the size bounds (0 = unbounded), the
 * access type and modes, the StorageClass parameters, the mutable parameters (a VolumeAttributesClass)
 * and where the content comes from (null = empty). {@code node} is where the volume must live, when
 * the request's topology says so (null = anywhere this provisioner can place it).
 */
public record VolumeSpec(String name, long requiredBytes, long limitBytes, AccessType accessType,
        Set<AccessMode> accessModes, Map<String, String> parameters, Map<String, String> mutableParameters,
        ContentSource source, String node) {
    public VolumeSpec {
        accessModes = Set.copyOf(accessModes);
        parameters = Map.copyOf(parameters);
        mutableParameters = Map.copyOf(mutableParameters);
    }
}
