package io.quorumd.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A master's lease: it runs from the send time of the newest keep-alive that a majority (the
 * master included, at {@code now}) has echoed, for the lease length. It only grows. Pure: the
 * caller passes the time, the majority and the lease length.
 */
final class Lease {
    private final Map<String, Long> echoes = new TreeMap<>();   // newest echoed send time per follower
    private long endNanos = -1;

    /** A follower echoed the master's keep-alive sent at {@code sentAtNanos}. */
    void echo(String from, long sentAtNanos) {
        echoes.merge(from, sentAtNanos, Math::max);
    }

    /**
     * Recomputes the end from the echoes; returns true when it moved later. The master's own
     * keep-alive counts as echoed at {@code now}.
     */
    boolean renew(long now, int majority, long leaseNanos) {
        List<Long> newest = new ArrayList<>(echoes.values());
        newest.add(now);
        newest.sort((a, b) -> Long.compare(b, a));
        if (newest.size() < majority) return false;
        long end = newest.get(majority - 1) + leaseNanos;
        if (end <= endNanos) return false;
        endNanos = end;
        return true;
    }

    /** The send time (master's clock) of the newest keep-alive {@code from} echoed; -1 if none. */
    long newestEcho(String from) {
        Long e = echoes.get(from);
        return e == null ? -1 : e;
    }

    /**
     * For an operator reading why a lease ended: each of {@code followers}' newest echoed keep-alive,
     * as its age at {@code now} in ms ("n2 1012 ms ago, n3 never").
     */
    String describeEchoes(long now, Iterable<String> followers) {
        StringBuilder b = new StringBuilder();
        for (String f : followers) {
            if (b.length() > 0) b.append(", ");
            Long e = echoes.get(f);
            b.append(f).append(' ').append(e == null ? "never" : (now - e) / 1_000_000 + " ms ago");
        }
        return b.toString();
    }

    /** The lease end on the master's clock; -1 until a majority has echoed. */
    long endNanos() {
        return endNanos;
    }

    /** True once the lease began and {@code now} is past its end. */
    boolean expired(long now) {
        return endNanos >= 0 && now >= endNanos;
    }

    /** True while the lease holds at {@code now}. */
    boolean holds(long now) {
        return endNanos >= 0 && now < endNanos;
    }
}
