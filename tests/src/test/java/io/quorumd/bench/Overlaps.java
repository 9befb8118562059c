package io.quorumd.bench;

import io.quorumd.it.CommandObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Intervals during which two or more command groups were alive at once, from the observer's
 * runs (first seen alive .. first seen empty, monotonic clock, 2 ms polls). The same function
 * judges quorumd's runs and keepalived's, so the two columns mean the same thing.
 */
final class Overlaps {
    private Overlaps() {}

    /** [startNanos, endNanos] of each maximal interval with at least two groups alive. */
    record Interval(long startNanos, long endNanos) {
        double millis() {
            return (endNanos - startNanos) / 1e6;
        }
    }

    static List<Interval> of(List<CommandObserver.Run> runs, long nowNanos) {
        TreeMap<Long, Integer> delta = new TreeMap<>();
        for (CommandObserver.Run r : runs) {
            long end = r.running() ? nowNanos : r.goneNanos();
            if (end <= r.firstSeenNanos()) continue;
            delta.merge(r.firstSeenNanos(), 1, Integer::sum);
            delta.merge(end, -1, Integer::sum);
        }
        List<Interval> out = new ArrayList<>();
        int alive = 0;
        long from = -1;
        for (Map.Entry<Long, Integer> e : delta.entrySet()) {
            int before = alive;
            alive += e.getValue();
            if (before < 2 && alive >= 2) from = e.getKey();
            if (before >= 2 && alive < 2) out.add(new Interval(from, e.getKey()));
        }
        return out;
    }

    /** The intervals that began within [fromNanos, toNanos). */
    static List<Interval> within(List<Interval> all, long fromNanos, long toNanos) {
        List<Interval> l = new ArrayList<>();
        for (Interval i : all) if (i.startNanos() >= fromNanos && i.startNanos() < toNanos) l.add(i);
        return l;
    }

    static double totalMillis(List<Interval> l) {
        double t = 0;
        for (Interval i : l) t += i.millis();
        return t;
    }
}
