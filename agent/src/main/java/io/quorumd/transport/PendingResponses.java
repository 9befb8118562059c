package io.quorumd.transport;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Inbound requests waiting for the agent's answer: (claimed sender, request id) to the ROUTER
 * routing id the answer must go to. Bounded in size and in time, because the agent may choose not
 * to answer and because anyone who reaches the port can send requests. Used by the I/O thread only.
 */
final class PendingResponses {
    private record Key(String from, long requestId) {}

    private record Entry(byte[] routingId, long expiresAtNanos) {}

    // insertion order is expiry order: every entry lives the same ttl, and a re-put moves to the end
    private final LinkedHashMap<Key, Entry> map = new LinkedHashMap<>();
    private final long ttlNanos;
    private final int max;

    PendingResponses(long ttlNanos, int max) {
        this.ttlNanos = ttlNanos;
        this.max = max;
    }

    /** Returns true when the oldest entry had to be forgotten to make room. */
    boolean put(String from, long requestId, byte[] routingId, long nowNanos) {
        Key k = new Key(from, requestId);
        map.remove(k);
        map.put(k, new Entry(routingId, nowNanos + ttlNanos));
        if (map.size() > max) {
            Iterator<Map.Entry<Key, Entry>> it = map.entrySet().iterator();
            it.next();
            it.remove();
            return true;
        }
        return false;
    }

    /** The routing id to answer through, or null when unknown or expired; the entry is gone after. */
    byte[] take(String from, long requestId, long nowNanos) {
        Entry e = map.remove(new Key(from, requestId));
        if (e == null || e.expiresAtNanos - nowNanos <= 0) return null;
        return e.routingId;
    }

    /** Forgets expired entries; returns how many. */
    int expire(long nowNanos) {
        int n = 0;
        Iterator<Map.Entry<Key, Entry>> it = map.entrySet().iterator();
        while (it.hasNext()) {
            if (it.next().getValue().expiresAtNanos - nowNanos > 0) break;
            it.remove();
            n++;
        }
        return n;
    }

    /** Nanoseconds from {@code nowNanos} until the next entry expires, or Long.MAX_VALUE when empty. */
    long nanosUntilNextExpiry(long nowNanos) {
        Iterator<Entry> it = map.values().iterator();
        return it.hasNext() ? Math.max(0, it.next().expiresAtNanos - nowNanos) : Long.MAX_VALUE;
    }

    int size() {
        return map.size();
    }
}
