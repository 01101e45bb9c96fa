package dev.strata.common.model;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a caller asked for in CreateVolume, already validated: the size bounds (0 = unbounded), the
 * access type and modes, the StorageClass parameters, the mutable parameters (a VolumeAttributesClass)
 * and where the content comes from (null = empty). {@code nodes} are where the volume may live, most
 * preferred first, when the request's topology says so (empty = anywhere this provisioner can place it).
 * {@code secrets} are the call's (a restore's backup credentials and key); never recorded.
 */
public record VolumeSpec(String name, long requiredBytes, long limitBytes, AccessType accessType,
        Set<AccessMode> accessModes, Map<String, String> parameters, Map<String, String> mutableParameters,
        ContentSource source, List<String> nodes, Secrets secrets) {
    public VolumeSpec {
        accessModes = Set.copyOf(accessModes);
        parameters = Map.copyOf(parameters);
        mutableParameters = Map.copyOf(mutableParameters);
        nodes = List.copyOf(nodes);
        secrets = secrets == null ? Secrets.NONE : secrets;
    }

    /** A request that carries no secrets. */
    public VolumeSpec(String name, long requiredBytes, long limitBytes, AccessType accessType,
            Set<AccessMode> accessModes, Map<String, String> parameters, Map<String, String> mutableParameters,
            ContentSource source, List<String> nodes) {
        this(name, requiredBytes, limitBytes, accessType, accessModes, parameters, mutableParameters, source, nodes,
                Secrets.NONE);
    }

    /** The same request, carrying {@code callSecrets}. */
    public VolumeSpec withSecrets(Secrets callSecrets) {
        return new VolumeSpec(name, requiredBytes, limitBytes, accessType, accessModes, parameters, mutableParameters,
                source, nodes, callSecrets);
    }

    /** The StorageClass's parameters with the VolumeAttributesClass's (mutable parameters) over them. */
    public Map<String, String> effectiveParameters() {
        Map<String, String> merged = new HashMap<>(parameters);
        merged.putAll(mutableParameters);
        return Map.copyOf(merged);
    }
}
