package io.quorumd.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The effects of one event, and the messages held back until the term and vote they rely on are
 * on disk (etcd's {@code Ready} contract: persist before send).
 *
 * <p>It numbers the {@link Effect.Persist} writes, coalesces the writes of one event into one (a
 * vote request in a newer term adopts the term, then votes: one disk write, not two in a row,
 * which on a slow disk decided whether the answer beat the candidate's time-out), holds what
 * {@link #send} is given while a write is unacknowledged, and keeps the storage's health: after a
 * failed write nothing held goes out, and one retry is pending at a time.
 *
 * <p>Pure: no clock, no I/O. The node decides what is stale when the held messages are released.
 */
final class Outbox {
    private List<Effect> out = new ArrayList<>();
    private final List<Effect> held = new ArrayList<>();
    private long persistSeq;          // last Persist issued
    private int persistIndex = -1;    // where in this event's effects that Persist sits; -1: none yet
    private long persistedSeq;        // last Persist acknowledged
    private boolean storageHealthy = true;
    private String storageProblem = "";
    private long retryAtNanos = -1;

    /** Starts the effects of a new event. */
    void begin() {
        out = new ArrayList<>();
        persistIndex = -1;
    }

    /** The effects of the current event, in order. */
    List<Effect> effects() {
        return out;
    }

    /**
     * An effect that goes out now, whatever is on disk (a trace, a role change, a hook). A message
     * may come here only while every write is acknowledged (a keep-alive checks {@link #mayAnnounce});
     * otherwise it goes through {@link #send}.
     */
    void emit(Effect e) {
        if (!allPersisted() && (e instanceof Effect.Publish || e instanceof Effect.Request || e instanceof Effect.Respond
                || e instanceof Effect.SendSnapshot))
            throw new IllegalStateException("message emitted past the outbox with write " + persistedSeq
                    + " acknowledged of " + persistSeq + " issued: " + e);
        out.add(e);
    }

    /** A message: out now if every write is acknowledged, else held until it is. */
    void send(Effect e) {
        if (persistedSeq < persistSeq) held.add(e);
        else out.add(e);
    }

    /**
     * Asks for {@code state} to be made durable. A second call within the same event rewrites the
     * first one's {@link Effect.Persist} in place: one write, in the first one's position.
     */
    void persist(TermState state) {
        if (persistIndex < 0) {
            persistSeq = Math.addExact(persistSeq, 1);
            persistIndex = out.size();
            out.add(null);
        }
        out.set(persistIndex, new Effect.Persist(persistSeq, state.term(), state.votedFor()));
    }

    /** True when every write issued is acknowledged: nothing is held back. */
    boolean allPersisted() {
        return persistedSeq >= persistSeq;
    }

    /** True when a keep-alive may announce the current term: it is on disk and the disk works. */
    boolean mayAnnounce() {
        return allPersisted() && storageHealthy;
    }

    boolean storageHealthy() {
        return storageHealthy;
    }

    String storageProblem() {
        return storageProblem;
    }

    /**
     * Write {@code seq} is on disk. Returns true when this ends a storage failure (the newest write
     * went through). The held messages wait for {@link #release}.
     */
    boolean acknowledged(long seq) {
        if (seq > persistedSeq) persistedSeq = seq;
        if (!storageHealthy && seq == persistSeq) {
            storageHealthy = true;
            storageProblem = "";
            retryAtNanos = -1;
            return true;
        }
        return false;
    }

    /** Once every write is acknowledged: the held messages go out, but for those {@code stale} drops. */
    void release(Predicate<Effect> stale) {
        if (!allPersisted())
            throw new IllegalStateException("releasing held messages with write " + persistedSeq
                    + " acknowledged of " + persistSeq + " issued");
        for (Effect e : held) if (!stale.test(e)) out.add(e);
        held.clear();
    }

    /** True when the failure of write {@code seq} matters: no newer write is on its way. */
    boolean isNewest(long seq) {
        return seq >= persistSeq;
    }

    /**
     * The newest write failed: what relied on it must not go out, and it is retried at
     * {@code retryAtNanos}.
     */
    void failed(String reason, long retryAtNanos) {
        storageHealthy = false;
        storageProblem = reason;
        held.clear();
        this.retryAtNanos = retryAtNanos;
    }

    /**
     * True (once) when the retry of a failed write is due. One retry at a time: the next waits for
     * this one's failure, or a disk slower than a heartbeat would never see its newest write
     * acknowledged.
     */
    boolean retryDue(long now) {
        if (storageHealthy || retryAtNanos < 0 || now < retryAtNanos) return false;
        retryAtNanos = -1;
        return true;
    }

    /** When a retry is due, or -1 when none is pending. */
    long retryAtNanos() {
        return storageHealthy ? -1 : retryAtNanos;
    }

    /** Drops held messages that no longer hold (for example pre-vote grants once a master is heard). */
    void dropHeld(Predicate<Effect> which) {
        held.removeIf(which);
    }
}
