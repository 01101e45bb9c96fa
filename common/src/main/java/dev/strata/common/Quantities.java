package dev.strata.common;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as Kubernetes writes them: {@code 1Gi}, {@code 512Mi}, {@code 1Ti} are binary;
 * {@code 10G}, {@code 100M}, {@code 1k} are decimal; a bare number is bytes.
 */
public final class Quantities {
    // Kubernetes spells decimal kilo with a lower-case k; K is accepted too. Lower-case m would be
    // "milli" there, which is meaningless for bytes, so it is refused rather than guessed.
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)([kKMGTPE]i?)?");
    private static final Map<String, Long> UNITS = Map.ofEntries(
            Map.entry("k", 1_000L), Map.entry("K", 1_000L), Map.entry("M", 1_000_000L),
            Map.entry("G", 1_000_000_000L), Map.entry("T", 1_000_000_000_000L),
            Map.entry("P", 1_000_000_000_000_000L), Map.entry("E", 1_000_000_000_000_000_000L),
            Map.entry("Ki", 1L << 10), Map.entry("Mi", 1L << 20), Map.entry("Gi", 1L << 30),
            Map.entry("Ti", 1L << 40), Map.entry("Pi", 1L << 50), Map.entry("Ei", 1L << 60));
    private static final String[] BINARY = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

    private Quantities() {}

    /** The number of bytes, or IllegalArgumentException saying what is wrong with the text. */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 1Gi, 512Mi, 10G, 4096)");
        }
        String unit = m.group(2);
        if (unit != null && unit.equals("ki")) {
            throw new IllegalArgumentException("not a size: '" + text + "' (binary kilo is Ki)");
        }
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit == null ? 1 : UNITS.get(unit)));
        BigInteger whole;
        try {
            whole = bytes.toBigIntegerExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("not a whole number of bytes: '" + text + "'");
        }
        if (whole.bitLength() >= 64) {
            throw new IllegalArgumentException("too large: '" + text + "'");
        }
        return whole.longValue();
    }

    /** A short binary rendering for tables: {@code 1Gi}, {@code 1.5Mi}, {@code 512B}. */
    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + "B";
        }
        int unit = Math.min(BINARY.length, (63 - Long.numberOfLeadingZeros(bytes)) / 10);
        double value = bytes / Math.pow(1024, unit);
        String number = String.format(Locale.ROOT, "%.1f", value);
        if (number.endsWith(".0")) {
            number = number.substring(0, number.length() - 2);
        }
        return number + BINARY[unit - 1];
    }
}
