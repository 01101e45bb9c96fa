package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.PoolStatus;
import dev.strata.api.v1alpha1.StrataNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Events on the StrataNode when one of its pools changes level: past 80% of its data or metadata
 * (the first alert rule's mark), reporting a problem (out of space, read-only, needing a check), or
 * back to having room. Only changes are posted, so a pool that stays nearly full says so once
 * (again after a restart, which forgets the levels).
 */
final class PoolEvents {
    static final double NEARLY_FULL = 0.80;

    /** How a pool stands, in increasing order of trouble. */
    enum Level { ROOM, NEARLY_FULL, PROBLEM }

    private final EventRecorder events;
    private final Map<String, Level> last = new HashMap<>();

    PoolEvents(EventRecorder events) {
        this.events = events;
    }

    /** Called with each new report; synchronized because the periodic and requested reports may overlap. */
    synchronized void observe(StrataNode node, List<PoolStatus> pools) {
        for (PoolStatus pool : pools) {
            Level now = level(pool);
            Level before = last.getOrDefault(pool.getName(), Level.ROOM);
            last.put(pool.getName(), now);
            if (now == before) {
                continue;
            }
            String what = "pool " + pool.getName() + " (" + pool.getEngine() + "): data " + percent(
                    pool.getUsedDataBytes(), pool.getDataBytes()) + ", metadata " + percent(pool.getUsedMetadataBytes(),
                    pool.getMetadataBytes());
            switch (now) {
                case PROBLEM -> events.node(node, EventRecorder.Type.WARNING, "PoolProblem", "ReportPool",
                        what + ": " + pool.getHealth());
                case NEARLY_FULL -> events.node(node, EventRecorder.Type.WARNING, "PoolNearlyFull", "ReportPool",
                        what + " used; new volumes will be refused when it is full");
                case ROOM -> events.node(node, EventRecorder.Type.NORMAL, "PoolHasRoom", "ReportPool", what + " used");
            }
        }
    }

    static Level level(PoolStatus pool) {
        if (pool.getHealth() != null && !"ok".equals(pool.getHealth())) {
            return Level.PROBLEM;
        }
        boolean nearlyFull = fraction(pool.getUsedDataBytes(), pool.getDataBytes()) >= NEARLY_FULL
                || fraction(pool.getUsedMetadataBytes(), pool.getMetadataBytes()) >= NEARLY_FULL;
        return nearlyFull ? Level.NEARLY_FULL : Level.ROOM;
    }

    private static double fraction(long used, long total) {
        return total <= 0 ? 0 : (double) used / total;
    }

    private static String percent(long used, long total) {
        return Math.round(fraction(used, total) * 100) + "%";
    }
}
