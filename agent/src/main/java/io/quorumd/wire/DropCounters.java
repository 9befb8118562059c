package io.quorumd.wire;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Counts dropped frames by reason and logs them, at most one line per reason per
 * {@link #LOG_INTERVAL_NANOS}, each line saying how many drops of that reason went unlogged since
 * the previous one. Keyed by reason only: the sender a bad frame claims is not to be trusted, so
 * it can neither multiply the log lines nor the counters. Safe to use from any thread.
 */
public final class DropCounters {
    public static final long LOG_INTERVAL_NANOS = 60_000_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(DropCounters.class);

    private final LongSupplier nanoClock;
    private final Consumer<String> logLine;
    private final Map<String, PerReason> byReason = new ConcurrentHashMap<>();

    /** Logs through slf4j at WARN. */
    public DropCounters(LongSupplier nanoClock) {
        this(nanoClock, LOG::warn);
    }

    /**
     * @param nanoClock a monotonic clock in nanoseconds (e.g. {@code System::nanoTime}); a test
     *                  passes its own to check the rate limit without sleeping
     * @param logLine   receives each log line
     */
    public DropCounters(LongSupplier nanoClock, Consumer<String> logLine) {
        if (nanoClock == null || logLine == null) throw new IllegalArgumentException("drop counters need a clock and a log sink");
        this.nanoClock = nanoClock;
        this.logLine = logLine;
    }

    public void record(DecodeFailure failure) {
        record(failure.reason().name(), failure.detail());
    }

    /**
     * Counts one dropped frame.
     *
     * @param reason a fixed name (an enum constant's name; counted and shown in lower case), never text from the frame
     * @param detail what was wrong, for the log line
     */
    public void record(String reason, String detail) {
        if (reason == null || reason.isEmpty()) throw new IllegalArgumentException("a drop needs a reason name");
        reason = name(reason);
        String line = byReason.computeIfAbsent(reason, r -> new PerReason()).count(reason, detail, nanoClock.getAsLong());
        if (line != null) {
            try {
                logLine.accept(line);
            } catch (RuntimeException e) {
                LOG.warn("drop counter log sink failed: {}", e.toString());
            }
        }
    }

    /** Drops counted for {@code reason} so far. */
    public long count(String reason) {
        PerReason p = byReason.get(name(reason));
        return p == null ? 0 : p.total();
    }

    /** Reasons are shown as SPEC names them ({@code bad_term}, {@code impostor}): lower case, whatever the caller's constant. */
    private static String name(String reason) {
        return reason.toLowerCase(Locale.ROOT);
    }

    /** Drops counted for every reason so far. */
    public long total() {
        long sum = 0;
        for (PerReason p : byReason.values()) sum += p.total();
        return sum;
    }

    /** Reason to count, sorted by reason name: {@code status --json} shows it under {@code dropped}. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new TreeMap<>();
        byReason.forEach((reason, p) -> m.put(reason, p.total()));
        return Collections.unmodifiableMap(m);
    }

    private static final class PerReason {
        private long total;
        private long suppressed;
        private boolean everLogged;
        private long lastLoggedNanos;

        /** Counts one drop; returns the line to log, or null when this reason logged too recently. */
        synchronized String count(String reason, String detail, long nowNanos) {
            total++;
            if (everLogged && nowNanos - lastLoggedNanos < LOG_INTERVAL_NANOS) {
                suppressed++;
                return null;
            }
            String line = "dropped a frame: " + reason + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")")
                    + (everLogged ? "; " + suppressed + " more " + reason + " drops since the last such line were not logged" : "")
                    + "; " + total + " " + reason + " drops in all";
            everLogged = true;
            lastLoggedNanos = nowNanos;
            suppressed = 0;
            return line;
        }

        synchronized long total() {
            return total;
        }
    }
}
