package io.quorumd.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The config file's durations: a whole number with a unit ({@code 250ms}, {@code 2s},
 * {@code 1m}, {@code 1h}) or several from the largest unit down ({@code 1m30s}). A bare number
 * is refused: {@code 100} could be milliseconds or seconds, and guessing wrong silently changes
 * the lease. Durations are at most {@link #MAX} so that every later product stays in range.
 */
public final class Durations {
    /** A year: far beyond any sensible setting, far below any overflow of nanoseconds. */
    public static final Duration MAX = Duration.ofHours(8760);

    private static final String[] UNITS = {"h", "m", "s", "ms"};
    private static final long[] UNIT_MILLIS = {3_600_000L, 60_000L, 1_000L, 1L};
    private static final String EXAMPLE = "e.g. 250ms, 2s or 1m30s";
    private static final Pattern ONE_DECIMAL = Pattern.compile("(\\d+\\.\\d+)(ms|s|m|h)");

    private Durations() {}

    /** A positive duration. */
    public static Duration parse(String text) {
        return parse(text, false);
    }

    /**
     * @param zeroAllowed whether {@code 0s} (or {@code 0ms}...) is accepted: only where SPEC
     *                    allows it ({@code stop_timeout})
     * @throws IllegalArgumentException whose message says what is wrong and what to write; it
     *                                  does not repeat the value (the loader adds it)
     */
    public static Duration parse(String text, boolean zeroAllowed) {
        if (text.isEmpty()) throw new IllegalArgumentException("a duration is needed, " + EXAMPLE);
        long totalMillis = 0;
        int nextUnit = 0;   // units must come in the order of UNITS, each at most once
        int i = 0;
        while (i < text.length()) {
            int startDigits = i;
            while (i < text.length() && isDigit(text.charAt(i))) i++;
            if (i == startDigits) throw new IllegalArgumentException(notANumber(text, i));
            String digits = text.substring(startDigits, i);
            int startUnit = i;
            while (i < text.length() && Character.isLetter(text.charAt(i))) i++;
            String unit = text.substring(startUnit, i);
            if (unit.isEmpty()) {
                if (i < text.length() && text.charAt(i) == '.') throw new IllegalArgumentException(decimal(text));
                if (i == text.length()) {
                    throw new IllegalArgumentException(startDigits == 0
                            ? "a duration needs a unit (ms, s, m or h), e.g. " + digits + "ms or " + digits + "s"
                            : "every number needs a unit (ms, s, m or h), " + EXAMPLE);
                }
                throw new IllegalArgumentException(notANumber(text, i));
            }
            int u = unitIndex(unit);
            if (u < 0) throw new IllegalArgumentException("unknown unit '" + unit + "'; use ms, s, m or h, " + EXAMPLE);
            if (u < nextUnit)
                throw new IllegalArgumentException("units must go from the largest to the smallest, each once, " + EXAMPLE);
            nextUnit = u + 1;
            if (digits.length() > 12) throw tooLarge();
            totalMillis += Long.parseLong(digits) * UNIT_MILLIS[u];
            if (totalMillis > MAX.toMillis()) throw tooLarge();
        }
        if (totalMillis == 0 && !zeroAllowed) throw new IllegalArgumentException("must be more than 0, " + EXAMPLE);
        return Duration.ofMillis(totalMillis);
    }

    /**
     * The form {@link #parse} reads back to the same value: whole milliseconds when there are
     * any ({@code 1500ms}), otherwise hours, minutes and seconds ({@code 2s}, {@code 1m30s}, {@code 1h}).
     *
     * @throws IllegalArgumentException for a negative duration or one with a fraction of a millisecond
     */
    public static String format(Duration d) {
        if (d.isNegative()) throw new IllegalArgumentException("a negative duration has no config form: " + d);
        if (d.getNano() % 1_000_000 != 0)
            throw new IllegalArgumentException("a config duration is whole milliseconds: " + d);
        long ms = d.toMillis();
        if (ms == 0) return "0s";
        if (ms % 1000 != 0) return ms + "ms";
        StringBuilder b = new StringBuilder();
        long rest = ms;
        for (int u = 0; u < 3; u++) {
            long n = rest / UNIT_MILLIS[u];
            if (n > 0) b.append(n).append(UNITS[u]);
            rest -= n * UNIT_MILLIS[u];
        }
        return b.toString();
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int unitIndex(String unit) {
        for (int u = 0; u < UNITS.length; u++) {
            if (UNITS[u].equals(unit)) return u;
        }
        return -1;
    }

    private static String notANumber(String text, int at) {
        char c = text.charAt(at);
        if (c == '-' && at == 0) return "must be more than 0, " + EXAMPLE;
        if (Character.isWhitespace(c)) return "no spaces inside a duration, " + EXAMPLE;
        return "must be whole numbers with a unit (ms, s, m or h), " + EXAMPLE;
    }

    /** {@code 1.5s}: say the exact whole-millisecond form when there is one. */
    private static String decimal(String text) {
        Matcher m = ONE_DECIMAL.matcher(text);
        if (m.matches()) {
            BigDecimal millis = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(UNIT_MILLIS[unitIndex(m.group(2))]));
            if (millis.stripTrailingZeros().scale() <= 0 && millis.compareTo(BigDecimal.valueOf(MAX.toMillis())) <= 0)
                return "whole numbers only: write " + format(Duration.ofMillis(millis.longValueExact()));
        }
        return "whole numbers only, " + EXAMPLE;
    }

    private static IllegalArgumentException tooLarge() {
        return new IllegalArgumentException("must be at most " + format(MAX));
    }
}
