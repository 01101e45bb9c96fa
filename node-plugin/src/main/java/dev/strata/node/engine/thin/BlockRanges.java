package dev.strata.node.engine.thin;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the XML of thin-provisioning-tools: the blocks a thin device maps (thin_dump's
 * range_mapping and single_mapping) and the blocks that differ between two devices (thin_delta's
 * different, right_only and left_only). Ranges are in pool blocks (chunks), merged when adjacent.
 */
final class BlockRanges {
    /** A run of blocks: {@code begin} and {@code length} in chunks. */
    record Range(long begin, long length) {
        long end() {
            return begin + length;
        }
    }

    private static final Pattern ATTRIBUTE = Pattern.compile("(\\w+)=\"(\\d+)\"");

    private BlockRanges() {}

    /** The blocks thin_dump says the device maps. */
    static List<Range> mapped(String thinDumpXml) {
        List<Range> ranges = new ArrayList<>();
        for (String line : thinDumpXml.split("\n")) {
            String t = line.trim();
            if (t.startsWith("<range_mapping")) {
                add(ranges, new Range(attribute(t, "origin_begin"), attribute(t, "length")));
            } else if (t.startsWith("<single_mapping")) {
                add(ranges, new Range(attribute(t, "origin_block"), 1));
            }
        }
        return ranges;
    }

    /**
     * The blocks whose content differs from the base to the target snapshot: changed, new in the
     * target, and unmapped in the target (they now read as zeros).
     */
    static List<Range> changed(String thinDeltaXml) {
        List<Range> ranges = new ArrayList<>();
        for (String line : thinDeltaXml.split("\n")) {
            String t = line.trim();
            if (t.startsWith("<different") || t.startsWith("<right_only") || t.startsWith("<left_only")) {
                add(ranges, new Range(attribute(t, "begin"), attribute(t, "length")));
            }
        }
        return ranges;
    }

    private static void add(List<Range> ranges, Range r) {
        if (!ranges.isEmpty() && ranges.get(ranges.size() - 1).end() == r.begin()) {
            Range last = ranges.remove(ranges.size() - 1);
            ranges.add(new Range(last.begin(), last.length() + r.length()));
        } else {
            ranges.add(r);
        }
    }

    private static long attribute(String element, String name) {
        Matcher m = ATTRIBUTE.matcher(element);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return Long.parseLong(m.group(2));
            }
        }
        throw new IllegalArgumentException("no " + name + " in " + element);
    }
}
