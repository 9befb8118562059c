package io.quorumd.core;

import io.quorumd.core.Message.InstallSnapshot;

/**
 * A follower's side of a snapshot transfer, without I/O: which snapshot it is receiving from its
 * master (one at a time), the offset it wants next, and what each chunk asks of the world. A chunk
 * at offset 0 starts a transfer (any other one is dropped); the next ones must follow in order; a
 * chunk out of order is answered with the offset wanted (0: start again). The last chunk is stored
 * and answered only once the world reports the snapshot durable ({@link Event.SnapshotReceived}),
 * by {@link Replication}; meanwhile a repeated request for it takes over the answer.
 */
final class SnapshotReceiver {
    /** The snapshot being received. */
    static final class Receiving {
        final String from;
        final long term;
        final long index;
        final long lastTerm;
        long next;
        boolean done;
        long requestId;

        Receiving(InstallSnapshot m) {
            this.from = m.from();
            this.term = m.term();
            this.index = m.lastIndex();
            this.lastTerm = m.lastTerm();
        }

        boolean same(InstallSnapshot m) {
            return from.equals(m.from()) && term == m.term() && index == m.lastIndex() && lastTerm == m.lastTerm();
        }
    }

    /**
     * What one chunk asks: {@code store} for the world (or null), an answer ({@code ack}) saying
     * {@code installed} or the {@code nextOffset} wanted, and a note for the trace (or null).
     */
    record Answer(Effect.StoreSnapshotChunk store, boolean ack, boolean installed, long nextOffset, String trace) {}

    private Receiving receiving;

    /**
     * A chunk of a snapshot above the commit index, past the term gate. {@code answerLastAtOnce} is
     * the mutant's seam ({@link Node#snapshotInstalledOnLastChunk}): answer the last chunk installed at once.
     */
    Answer onChunk(InstallSnapshot m, boolean answerLastAtOnce) {
        boolean same = receiving != null && receiving.same(m);
        if (same && receiving.done) {
            receiving.requestId = m.requestId();   // the snapshot is being stored: this request gets the answer
            return new Answer(null, false, false, 0, null);
        }
        if (m.offset() == 0) {
            receiving = new Receiving(m);
        } else if (!same || m.offset() != receiving.next) {
            long want = same ? receiving.next : 0;
            return new Answer(null, true, false, want, "InstallSnapshot from " + m.from() + ": chunk at " + m.offset()
                    + " of snapshot " + m.lastIndex() + ", expected " + want);
        }
        Effect.StoreSnapshotChunk store = new Effect.StoreSnapshotChunk(m.from(), m.lastIndex(), m.lastTerm(), m.offset(),
                m.data(), m.done());
        receiving.next = m.offset() + m.size();
        if (!m.done()) return new Answer(store, true, false, receiving.next, null);
        receiving.done = true;
        receiving.requestId = m.requestId();
        return new Answer(store, answerLastAtOnce, answerLastAtOnce, 0, null);
    }

    /** A chunk of a snapshot the commit index already covers: a transfer of it ends here. */
    void forget(InstallSnapshot m) {
        if (receiving != null && receiving.same(m)) receiving = null;
    }

    /** The transfer whose last chunk was stored as snapshot ({@code index}, {@code term}), ended; or null. */
    Receiving takeDone(long index, long term) {
        Receiving r = receiving;
        if (r == null || !r.done || r.index != index || r.lastTerm != term) return null;
        receiving = null;
        return r;
    }

    /** Storing snapshot {@code index} failed: its transfer starts again. */
    void failed(long index) {
        if (receiving != null && receiving.done && receiving.index == index) receiving = null;
    }

    /** A transfer of an older term than {@code term} still under way ends (one whose last chunk is stored waits for its report). */
    void dropUnlessDone(long term) {
        if (receiving != null && receiving.term != term && !receiving.done) receiving = null;
    }
}
