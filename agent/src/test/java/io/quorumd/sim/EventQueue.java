package io.quorumd.sim;

import java.util.PriorityQueue;

/**
 * Virtual real time: a queue of timed actions. Ties run in the order they were scheduled, so a
 * seed replays exactly.
 */
final class EventQueue {
    private static final class Item {
        final long at;
        final long seq;
        final Runnable action;

        Item(long at, long seq, Runnable action) {
            this.at = at;
            this.seq = seq;
            this.action = action;
        }
    }

    private final PriorityQueue<Item> queue = new PriorityQueue<>(256,
            (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private long seq;
    private long now;
    private long executed;

    long now() {
        return now;
    }

    long executed() {
        return executed;
    }

    /** Runs {@code action} at real time {@code realNanos} (never in the past). */
    void at(long realNanos, Runnable action) {
        if (realNanos == Long.MAX_VALUE) return;
        queue.add(new Item(Math.max(realNanos, now), seq++, action));
    }

    /** Runs the next action if it is due no later than {@code limit}; false when none is. */
    boolean runNext(long limit) {
        Item i = queue.peek();
        if (i == null || i.at > limit) return false;
        queue.poll();
        now = i.at;
        executed++;
        i.action.run();
        return true;
    }
}
