package dev.strata.common.model;

import java.util.Set;

/**
 * What an engine can do, so that requests it cannot honour are refused before anything is made:
 * access types and modes, filesystem types, the StorageClass and mutable parameters it understands.
 */
public record EngineTraits(String name, Set<AccessType> accessTypes, Set<AccessMode> accessModes,
        Set<String> fsTypes, Set<String> parameterKeys, Set<String> mutableParameterKeys,
        boolean nodeExpansionRequired) {
    public EngineTraits {
        accessTypes = Set.copyOf(accessTypes);
        accessModes = Set.copyOf(accessModes);
        fsTypes = Set.copyOf(fsTypes);
        parameterKeys = Set.copyOf(parameterKeys);
        mutableParameterKeys = Set.copyOf(mutableParameterKeys);
    }
}
