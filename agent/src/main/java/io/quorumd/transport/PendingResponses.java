package io.quorumd.transport;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Inbound requests waiting for the agent's answer: (claimed sender, request id) to where the
 * answer must go (the ROUTER envelope: routing id and, from a correlating REQ, its request id frame). Bounded in size and in time, because the agent may choose not
 * to answer and because anyone who reaches the port can send requests. Used by the I/O thread only.
 */
final class PendingResponses<T> {
    private record Key(String from, long requestId) {}

    private record Entry<T>(T to, long expiresAtNanos) {}

    // insertion order is expiry order: every entry lives the same ttl, and a re-put moves to the end
    private final LinkedHashMap<Key, Entry<T>> map = new LinkedHashMap<>();
    private final long ttlNanos;
    private final int max;

    PendingResponses(long ttlNanos, int max) {
        this.ttlNanos = ttlNanos;
        this.max = max;
    }

    /** Returns true when the oldest entry had to be forgotten to make room. */
    boolean put(String from, long requestId, T to, long nowNanos) {
        Key k = new Key(from, requestId);
        map.remove(k);
        map.put(k, new Entry<>(to, nowNanos + ttlNanos));
        if (map.size() > max) {
            Iterator<Map.Entry<Key, Entry<T>>> it = map.entrySet().iterator();
            it.next();
            it.remove();
            return true;
        }
        return false;
    }

    /** Where to answer, or null when unknown or expired; the entry is gone after. */
    T take(String from, long requestId, long nowNanos) {
        Entry<T> e = map.remove(new Key(from, requestId));
        if (e == null || e.expiresAtNanos - nowNanos <= 0) return null;
        return e.to;
    }

    /** Forgets expired entries; returns how many. */
    int expire(long nowNanos) {
        int n = 0;
        Iterator<Map.Entry<Key, Entry<T>>> it = map.entrySet().iterator();
        while (it.hasNext()) {
            if (it.next().getValue().expiresAtNanos - nowNanos > 0) break;
            it.remove();
            n++;
        }
        return n;
    }

    /** Nanoseconds from {@code nowNanos} until the next entry expires, or Long.MAX_VALUE when empty. */
    long untilNextExpiryNanos(long nowNanos) {
        Iterator<Entry<T>> it = map.values().iterator();
        return it.hasNext() ? Math.max(0, it.next().expiresAtNanos - nowNanos) : Long.MAX_VALUE;
    }

    int size() {
        return map.size();
    }
}
