package dev.strata.node.powercut;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Draws the points of a write log at which {@link PowerCutVmTest} cuts the power. A log of a few
 * hundred to a few thousand writes has hundreds of flush, FUA and mark points, and each check takes
 * 3 to 40 s under emulation, so a run checks a sample: it picks one of the workload's operations at
 * random (the writes after one acknowledgement up to and including the next; the last span is what
 * ran after the last one), then one point within it. Every operation is as likely to be cut as any
 * other, however many writes it makes, and most cuts land in the middle of an operation, where a
 * half-done change must be undone or finished. The draw is a function of the seed, so a failing run
 * is repeated exactly with its seed, and runs with other seeds cover other points over time.
 */
final class CutPoints {
    /** The prefix of the mark a workload writes after each operation it acknowledged. */
    static final String ACKNOWLEDGEMENT = "ack-";

    private CutPoints() {}

    /** Up to {@code count} distinct cut points of {@code log}, in log order (replay only goes forward). */
    static List<WriteLog.Entry> draw(List<WriteLog.Entry> log, int count, long seed) {
        List<List<WriteLog.Entry>> spans = spans(log);
        SplittableRandom random = new SplittableRandom(seed);
        TreeSet<WriteLog.Entry> drawn = new TreeSet<>(Comparator.comparingInt(WriteLog.Entry::index));
        while (drawn.size() < count && !spans.isEmpty()) {
            int s = random.nextInt(spans.size());
            List<WriteLog.Entry> span = spans.get(s);
            drawn.add(span.remove(random.nextInt(span.size())));
            if (span.isEmpty()) {
                spans.remove(s);
            }
        }
        return List.copyOf(drawn);
    }

    /** The cut points, split after each acknowledgement mark; empty spans left out. */
    private static List<List<WriteLog.Entry>> spans(List<WriteLog.Entry> log) {
        List<List<WriteLog.Entry>> spans = new ArrayList<>();
        List<WriteLog.Entry> span = new ArrayList<>();
        for (WriteLog.Entry e : log) {
            if (e.isCutPoint()) {
                span.add(e);
            }
            if (isAcknowledgement(e)) {
                spans.add(span);
                span = new ArrayList<>();
            }
        }
        spans.add(span);
        spans.removeIf(List::isEmpty);
        return spans;
    }

    private static boolean isAcknowledgement(WriteLog.Entry e) {
        return e.mark() != null && e.mark().startsWith(ACKNOWLEDGEMENT);
    }
}
