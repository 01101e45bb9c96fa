package dev.strata.common;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Non-blocking per-object locks. A second call on a busy object gets ABORTED at once (as the CSI spec
 * asks for "operation pending"), while calls on different objects run in parallel.
 */
public final class LockTable {
    private final Set<String> held = ConcurrentHashMap.newKeySet();

    /** Takes every key or none of them; the returned handle releases them. */
    public Held acquire(String... keys) {
        String[] sorted = Arrays.stream(keys).distinct().sorted().toArray(String[]::new);
        for (int i = 0; i < sorted.length; i++) {
            if (!held.add(sorted[i])) {
                for (int j = 0; j < i; j++) {
                    held.remove(sorted[j]);
                }
                throw CsiException.aborted("an operation on " + sorted[i] + " is already in progress");
            }
        }
        return new Held(sorted);
    }

    public boolean isHeld(String key) {
        return held.contains(key);
    }

    /** Releases its keys when closed; use in try-with-resources. */
    public final class Held implements AutoCloseable {
        private final String[] keys;

        private Held(String[] keys) {
            this.keys = keys;
        }

        @Override
        public void close() {
            for (String key : keys) {
                held.remove(key);
            }
        }
    }
}
