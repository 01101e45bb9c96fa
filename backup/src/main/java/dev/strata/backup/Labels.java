package dev.strata.backup;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** Labels as records keep them: never null, unmodifiable, sorted so that manifests read the same every time. */
final class Labels {
    private Labels() {}

    static Map<String, String> copy(Map<String, String> labels) {
        return labels == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(labels));
    }
}
