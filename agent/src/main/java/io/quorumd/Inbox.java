package io.quorumd;

import io.quorumd.core.Event;
import io.quorumd.wire.DropCounters;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The event loop's one queue, bounded so that a flood of valid frames cannot fill the heap. The
 * adapters hand events over with {@link #offer}, which never blocks (the transport's I/O thread
 * must never wait on the loop).
 *
 * <p>Only frames ({@link Event.Received}) are ever shed: they come from the network at whatever
 * rate a peer sends, and the protocol tolerates losing any of them (keep-alives repeat, requests
 * time out and are retried). They may fill the queue only up to {@code capacity - reserve}; a
 * frame beyond that is dropped and counted as {@value #OVERLOAD} in the drop counters ({@code
 * status --json} "dropped"). Every other event answers something the loop itself asked for (a
 * persist, a command stop, a request's failure, a step-down) or is rare, so the reserve always has
 * room for it; should it not, the agent cannot go on correctly (a lost {@code Persisted} would
 * leave the node mute), and {@link #failure} says so, which stops the agent.
 */
final class Inbox {
    /** The drop reason of a frame shed because the loop is behind. */
    static final String OVERLOAD = "OVERLOAD";
    /** Events held at most: a few hundred KB of frames, far more than a cluster sends between two turns of the loop. */
    static final int CAPACITY = 1024;
    /** Room kept for the events the loop asked for, which are never shed. */
    static final int RESERVE = 128;

    private final LinkedBlockingQueue<Event> queue;
    private final int frameLimit;
    private final DropCounters drops;
    private final AtomicReference<String> failure = new AtomicReference<>();

    Inbox(DropCounters drops) {
        this(CAPACITY, RESERVE, drops);
    }

    Inbox(int capacity, int reserve, DropCounters drops) {
        if (capacity <= reserve || reserve < 1)
            throw new IllegalArgumentException("inbox capacity " + capacity + " must exceed its reserve " + reserve);
        this.queue = new LinkedBlockingQueue<>(capacity);
        this.frameLimit = capacity - reserve;
        this.drops = drops;
    }

    /** Hands {@code e} to the loop without blocking; a frame is shed when the loop is behind. */
    void offer(Event e) {
        if (e instanceof Event.Received r) {
            // size() is a racy read, but only the transport's I/O thread offers frames, so frames
            // alone never pass frameLimit and the reserve stays for the other events
            if (queue.size() >= frameLimit || !queue.offer(e)) {
                drops.record(OVERLOAD, "the event loop is " + frameLimit + " events behind; shed a "
                        + r.message().type() + " (the protocol repeats or retries it)");
            }
            return;
        }
        if (!queue.offer(e)) {
            String why = "the event queue is full (" + queue.size() + " events): could not queue " + e;
            drops.record(OVERLOAD, why);
            failure.compareAndSet(null, why);
        }
    }

    /**
     * Wakes the loop to run the tasks handed to it (the store's client requests): a tick, unless
     * events are queued already (the loop runs its tasks before each event) or the queue is at its
     * frames' bound (then it is busy and soon at the tasks). Never counts as a lost event.
     */
    void wake() {
        if (queue.isEmpty()) queue.offer(new Event.Tick());
    }

    /** Waits at most {@code nanos} for the next event; null if none came. */
    Event poll(long nanos) throws InterruptedException {
        return nanos > 0 ? queue.poll(nanos, TimeUnit.NANOSECONDS) : queue.poll();
    }

    int size() {
        return queue.size();
    }

    /** Why an event the loop depends on was lost, or null (the normal case). */
    String failure() {
        return failure.get();
    }
}
