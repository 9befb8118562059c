package io.quorumd.core;

import io.quorumd.core.Message.Append;
import io.quorumd.core.Message.AppendAck;
import io.quorumd.log.AppendResult;
import io.quorumd.log.LogEntry;
import io.quorumd.log.RaftLog;

import java.util.ArrayList;
import java.util.List;

/**
 * The replicated log, for every role (Raft §5.3-5.4): what is durable, what a follower acknowledges
 * (only entries on its disk), what is committed and applied, and the client requests waiting for
 * them. The master's own bookkeeping ({@link Leadership}) exists only while it is master of one term
 * and is dropped with it, failing what it still held.
 *
 * <p>Durability is tracked like the term file's: every change of the log goes out as an
 * {@link Effect.PersistLog} with a sequence number, and {@link #durableIndex} is the last index the
 * acknowledged writes hold that the in-memory log still agrees with (a truncation lowers it at once).
 * A follower's {@link AppendAck} waits for it; the master counts its own durable index, not its last,
 * in the commit rule. Off ({@link NodeConfig#replication()} false) the part does nothing and the log
 * stays empty, so the election behaves exactly as before.
 */
final class Replication {
    /** At most this many entries, and about this many payload bytes, per append (a frame is at most 64 KiB). */
    static final int MAX_ENTRIES_PER_APPEND = 64;
    static final int MAX_APPEND_PAYLOAD_BYTES = 40 * 1024;

    private final Node n;
    final boolean enabled;
    RaftLog log = RaftLog.empty();

    private long logSeq;
    /** writes issued and not yet acknowledged: [seq, last index it holds that the log still agrees with] */
    private final List<long[]> writes = new ArrayList<>();
    long durableIndex;
    long lastApplied;
    /** acknowledgements waiting for the disk: a follower answers only for what it holds durably */
    private final List<AppendAck> heldAcks = new ArrayList<>();
    private final List<String> heldAckTo = new ArrayList<>();
    /** the master's bookkeeping; null unless master */
    Leadership leadership;

    Replication(Node n) {
        this.n = n;
        this.enabled = n.config.replication();
    }

    /** The durable log as storage recovered it, before the first event: all of it is on disk. */
    void recover(RaftLog recovered) {
        if (!enabled && recovered.lastIndex() > 0)
            throw new IllegalStateException("a replicated log of " + recovered.lastIndex() + " entries, but replication is off");
        this.log = recovered;
        this.durableIndex = recovered.lastIndex();
        this.lastApplied = recovered.baseIndex();
    }

    // ------------------------------------------------------------------ persistence

    /** The master's own new entry goes to disk; it counts for the commit once there. */
    void persistOwn(LogEntry e) {
        persist(0, List.of(e));
    }

    private void persist(long truncateFrom, List<LogEntry> entries) {
        if (truncateFrom > 0) {
            durableIndex = Math.min(durableIndex, truncateFrom - 1);
            for (long[] w : writes) w[1] = Math.min(w[1], truncateFrom - 1);
        }
        long seq = ++logSeq;
        writes.add(new long[] {seq, log.lastIndex()});
        n.emit(new Effect.PersistLog(seq, truncateFrom, entries));
    }

    void onLogPersisted(long seq, long now) {
        while (!writes.isEmpty() && writes.get(0)[0] <= seq) {
            long[] w = writes.remove(0);
            durableIndex = Math.max(durableIndex, Math.min(w[1], log.lastIndex()));
        }
        releaseAcks();
        if (leadership != null) leadership.advanceCommit(now);
    }

    /** How far this node's acknowledgements may go: its durable index (a mutant's seam through {@link Node}). */
    private long ackableIndex() {
        return n.ackableIndex(durableIndex, log.lastIndex());
    }

    private void releaseAcks() {
        long ackable = ackableIndex();
        for (int i = 0; i < heldAcks.size(); ) {
            AppendAck a = heldAcks.get(i);
            if (a.matchIndex() <= ackable) {
                n.send(new Effect.Respond(heldAckTo.get(i), a));
                heldAcks.remove(i);
                heldAckTo.remove(i);
            } else {
                i++;
            }
        }
    }

    // ------------------------------------------------------------------ messages

    /** Past the term gate: an append of this node's term from its master (this node is not master). */
    void onAppend(Append a, long now) {
        if (!enabled) {
            n.trace("dropped Append from %s: replication is off on this node", a.from());
            return;
        }
        AppendResult r;
        try {
            r = log.appendFromLeader(a.prevIndex(), a.prevTerm(), a.entries(), a.leaderCommit());
        } catch (IllegalArgumentException e) {
            n.trace("dropped Append from %s: %s", a.from(), e.getMessage());
            return;
        }
        if (r instanceof AppendResult.Rejected x) {
            n.send(new Effect.Respond(a.from(), new AppendAck(n.self, n.state.term(), n.bootId, a.requestId(), false, 0,
                    x.conflictIndex(), x.conflictTerm())));
            return;
        }
        AppendResult.Accepted ok = (AppendResult.Accepted) r;
        if (ok.truncatedFrom() > 0 || !ok.newEntries().isEmpty()) persist(ok.truncatedFrom(), ok.newEntries());
        // answers to older appends of the same master that still wait are covered by this one
        heldAcks.add(new AppendAck(n.self, n.state.term(), n.bootId, a.requestId(), true, ok.matchIndex(), 0, 0));
        heldAckTo.add(a.from());
        releaseAcks();
        applyCommitted();
    }

    /** Past the term gate: an answer of this node's term. */
    void onAppendAck(AppendAck a, long now) {
        if (leadership != null && leadership.term == n.state.term()) leadership.onAck(a, now);
    }

    void onRequestFailed(Event.RequestFailed f) {
        if (leadership != null) leadership.requestFailed(f.to(), f.requestId());
    }

    /** Drops what relied on an older term: held acknowledgements name the term they were made in. */
    private void dropStaleAcks() {
        for (int i = heldAcks.size() - 1; i >= 0; i--) {
            if (heldAcks.get(i).term() != n.state.term()) {
                heldAcks.remove(i);
                heldAckTo.remove(i);
            }
        }
    }

    // ------------------------------------------------------------------ clients

    void onClientWrite(Event.ClientWrite w, long now) {
        String refusal = refusal();
        if (refusal != null) {
            n.emit(new Effect.ClientFailed(w.requestId(), false, masterHint(), refusal));
            return;
        }
        if (w.payload().length == 0) {
            n.emit(new Effect.ClientFailed(w.requestId(), false, masterHint(), "an empty command"));
            return;
        }
        leadership.propose(w.requestId(), w.payload(), now);
    }

    void onClientRead(Event.ClientRead r, long now) {
        String refusal = refusal();
        if (refusal != null) {
            n.emit(new Effect.ClientFailed(r.requestId(), false, masterHint(), refusal));
            return;
        }
        leadership.read(r.requestId(), now);
    }

    private String refusal() {
        if (!enabled) return "the replicated store is not enabled on this node";
        if (n.handOvers.shuttingDown) return "shutting down";
        if (leadership == null) return "not master" + (n.master != null ? ": master is " + n.master : " (no master known)");
        return null;
    }

    private String masterHint() {
        return n.role() == Role.MASTER ? null : n.master;
    }

    // ------------------------------------------------------------------ after every event

    /**
     * After each event: mastership begun or ended, appends due, deadlines of client requests, and
     * the entries newly committed applied in order.
     */
    void afterEvent(long now) {
        if (!enabled) return;
        dropStaleAcks();
        boolean master = n.role() == Role.MASTER;
        if (leadership != null && (!master || leadership.term != n.state.term())) {
            leadership.end(master ? "term " + leadership.term + " ended" : "no longer master");
            leadership = null;
        }
        if (master && leadership == null) {
            leadership = new Leadership(n, this, n.state.term());
            // Raft's no-op: an entry of its own term, whose commit commits everything before it
            LogEntry noop = log.appendAsMaster(n.state.term(), new byte[0]);
            leadership.noopIndex = noop.index();
            persist(0, List.of(noop));
        }
        if (leadership != null) leadership.onTime(now);
        applyCommitted();
        if (leadership != null) leadership.serveReads();
    }

    void applyCommitted() {
        while (lastApplied < log.commitIndex()) {
            lastApplied++;
            LogEntry e = log.entry(lastApplied);
            long id = leadership != null ? leadership.committed(e) : 0;
            n.emit(new Effect.Apply(e, id));
        }
    }

    long nextDeadlineNanos() {
        return leadership != null ? leadership.nextDeadlineNanos() : Long.MAX_VALUE;
    }

    long lastIndex() {
        return log.lastIndex();
    }

    long lastTerm() {
        return log.lastTerm();
    }
}
