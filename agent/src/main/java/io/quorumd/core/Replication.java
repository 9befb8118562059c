package io.quorumd.core;

import io.quorumd.core.Message.Append;
import io.quorumd.core.Message.AppendAck;
import io.quorumd.core.Message.InstallSnapshot;
import io.quorumd.core.Message.InstallSnapshotAck;
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
 *
 * <p>Snapshots (Raft §7). Taking one: once {@link SnapshotPolicy} finds enough applied since the
 * base, the core asks for one with {@link Effect.TakeSnapshot} right after the {@link Effect.Apply}
 * of its index, so the world snapshots exactly that state; on {@link Event.SnapshotTaken} it
 * compacts its log and emits {@link Effect.CompactLog}. Installing one: the master sends a follower
 * whose next index is compacted its snapshot in chunks ({@link Leadership}, {@link Effect.SendSnapshot});
 * the follower checks each chunk's term and master (the {@link TermGate}, as for appends) and order,
 * has the world store it ({@link Effect.StoreSnapshotChunk}), and once the world reports the whole
 * snapshot durable ({@link Event.SnapshotReceived}) installs it unless its commit index already
 * covers it, has the world restore its state machine from it ({@link Effect.RestoreSnapshot}) and
 * answers {@link InstallSnapshotAck} {@code installed}, held like an append's answer until durable.
 * A snapshot at or below the commit index changes nothing: it is answered as installed once the
 * entries it covers are durable here.
 *
 * <p>A failed log write ({@link Event.LogPersistFailed}) counts none of the entries it or any later
 * write held as durable: nothing more is acknowledged, a master refuses new client writes, and a
 * heartbeat later (then after each failure) the log is rewritten from the durable index on, one
 * write at a time, until one succeeds.
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
    /** an answer waiting for the disk: a follower answers only once it holds {@code needed} durably */
    private record Held(String to, Message message, long needed) {}

    private final List<Held> heldAcks = new ArrayList<>();

    // --- snapshots ---
    SnapshotPolicy policy = SnapshotPolicy.DEFAULT;
    /** the index of the snapshot asked for and not yet reported; 0: none */
    long snapshotPending;
    /** after a failed snapshot: no new one before this applied index */
    private long snapshotRetryAfter;
    /** payload bytes applied since the snapshot base */
    private long appliedBytes;
    /** snapshots taken (compacted) and installed by this node: for tests and the simulator */
    long snapshotsTaken;
    long snapshotsInstalled;

    /** a follower's side of a snapshot transfer: the chunks of the one it is receiving */
    final SnapshotReceiver receiver = new SnapshotReceiver();

    // --- a failing log disk ---
    /** why the last log write failed, while the log is not rewritten yet; null: healthy */
    String logProblem;
    private long logRetryAtNanos = -1;
    /** the rewrite on its way; 0: none */
    private long logRetrySeq;
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
        this.appliedBytes = 0;
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
        // while the log disk fails and no rewrite is on its way, the next rewrite carries these entries;
        // once one is, later writes follow it in order (and fail with it)
        if (logProblem == null || logRetrySeq != 0) issue(truncateFrom, entries);
    }

    private long issue(long truncateFrom, List<LogEntry> entries) {
        long seq = ++logSeq;
        writes.add(new long[] {seq, log.lastIndex()});
        n.emit(new Effect.PersistLog(seq, truncateFrom, entries));
        return seq;
    }

    void onLogPersisted(long seq, long now) {
        while (!writes.isEmpty() && writes.get(0)[0] <= seq) {
            long[] w = writes.remove(0);
            durableIndex = Math.max(durableIndex, Math.min(w[1], log.lastIndex()));
        }
        if (logProblem != null && logRetrySeq != 0 && seq >= logRetrySeq) {
            n.trace("log storage works again: the log is durable up to %d", durableIndex);
            logProblem = null;
            logRetrySeq = 0;
            logRetryAtNanos = -1;
        }
        releaseAcks();
        if (leadership != null) leadership.advanceCommit(now);
    }

    /**
     * Write {@code seq} failed: neither its entries nor those of any write after it count as durable
     * (the later ones may land after a hole). The log is rewritten from the durable index a heartbeat later.
     */
    void onLogPersistFailed(Event.LogPersistFailed f, long now) {
        boolean known = false;
        while (!writes.isEmpty() && writes.get(0)[0] <= f.seq()) {
            writes.remove(0);
            known = true;
        }
        if (!known) {
            n.trace("log write #%d failed (%s), but it is not outstanding: ignored", f.seq(), f.reason());
            return;
        }
        for (long[] w : writes) w[1] = Math.min(w[1], durableIndex);
        if (logProblem == null)
            n.trace("cannot persist the log (%s): durable up to %d, acknowledging nothing more%s", f.reason(), durableIndex,
                    leadership != null ? ", refusing client writes" : "");
        logProblem = f.reason();
        logRetrySeq = 0;
        logRetryAtNanos = now + n.timing.heartbeatNanos();
    }

    /** The rewrite of a failing log: everything after the durable index, over whatever the disk holds there. */
    private void retryLogWrite(long now) {
        if (logProblem == null || logRetrySeq != 0 || now < logRetryAtNanos) return;
        long from = durableIndex + 1;
        List<LogEntry> tail = log.lastIndex() >= from ? log.entriesFrom(from, (int) (log.lastIndex() - from + 1)) : List.of();
        for (long[] w : writes) w[1] = Math.min(w[1], durableIndex);
        logRetrySeq = issue(from, tail);
        logRetryAtNanos = -1;
    }

    /** How far this node's acknowledgements may go: its durable index (a mutant's seam through {@link Node}). */
    private long ackableIndex() {
        return n.ackableIndex(durableIndex, log.lastIndex());
    }

    private void releaseAcks() {
        long ackable = ackableIndex();
        for (int i = 0; i < heldAcks.size(); ) {
            Held h = heldAcks.get(i);
            if (h.needed() <= ackable) {
                n.send(new Effect.Respond(h.to(), h.message()));
                heldAcks.remove(i);
            } else {
                i++;
            }
        }
    }

    private void hold(String to, Message m, long needed) {
        heldAcks.add(new Held(to, m, needed));
        releaseAcks();
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
        hold(a.from(), new AppendAck(n.self, n.state.term(), n.bootId, a.requestId(), true, ok.matchIndex(), 0, 0),
                ok.matchIndex());
        applyCommitted();
    }

    /** Past the term gate: an answer of this node's term. */
    void onAppendAck(AppendAck a, long now) {
        if (leadership != null && leadership.term == n.state.term()) leadership.onAck(a, now);
    }

    // ------------------------------------------------------------------ snapshots: installing

    /** Past the term gate: a chunk of this term's master's snapshot (this node is not master). */
    void onInstallSnapshot(InstallSnapshot m, long now) {
        if (!enabled) {
            n.trace("dropped InstallSnapshot from %s: replication is off on this node", m.from());
            return;
        }
        if (m.lastIndex() <= log.commitIndex()) {
            // every entry it covers is committed here already: nothing to install, answered once durable
            receiver.forget(m);
            hold(m.from(), snapshotAck(m.requestId(), true, m.lastIndex(), 0), m.lastIndex());
            return;
        }
        SnapshotReceiver.Answer a = receiver.onChunk(m, n.snapshotInstalledOnLastChunk());
        if (a.trace() != null) n.trace("%s", a.trace());
        if (a.store() != null) n.emit(a.store());
        if (a.ack()) n.send(new Effect.Respond(m.from(), snapshotAck(m.requestId(), a.installed(), m.lastIndex(), a.nextOffset())));
    }

    private InstallSnapshotAck snapshotAck(long requestId, boolean installed, long index, long nextOffset) {
        return new InstallSnapshotAck(n.self, n.state.term(), n.bootId, requestId, installed, index, nextOffset);
    }

    /**
     * The snapshot received is durable: installed (log, commit, applied and durable indexes) unless
     * the commit index already covers it; the master is answered once what it covers is durable here.
     */
    void onSnapshotReceived(Event.SnapshotReceived e) {
        SnapshotReceiver.Receiving r = receiver.takeDone(e.index(), e.term());
        if (e.index() > log.commitIndex()) {
            boolean keep = e.index() <= log.lastIndex() && log.termAt(e.index()) == e.term();
            log.installSnapshot(e.index(), e.term());
            if (keep) {
                durableIndex = Math.max(durableIndex, e.index());
            } else {
                durableIndex = e.index();
                for (long[] w : writes) w[1] = Math.min(w[1], e.index());
                heldAcks.removeIf(h -> h.needed() > e.index());
            }
            lastApplied = e.index();
            appliedBytes = 0;
            snapshotsInstalled++;
            n.trace("installed snapshot %d (term %d)%s", e.index(), e.term(), keep ? ", kept the entries after it"
                    : ", the log after it discarded");
            n.emit(new Effect.RestoreSnapshot(e.index(), e.term()));
            n.emit(new Effect.CompactLog(e.index(), e.term(), !keep));
        } else {
            n.trace("snapshot %d (term %d) received, but the commit index is %d already: not installed", e.index(),
                    e.term(), log.commitIndex());
        }
        if (r != null && r.term == n.state.term())   // only this term's master sends chunks of this term
            hold(r.from, snapshotAck(r.requestId, true, e.index(), 0), e.index());
    }

    // ------------------------------------------------------------------ snapshots: taking

    /** After applying: a snapshot of the state applied so far, when the policy finds one due. */
    private void maybeSnapshot() {
        if (snapshotPending > 0 || lastApplied <= log.baseIndex() || lastApplied < snapshotRetryAfter) return;
        if (!policy.due(lastApplied - log.baseIndex(), appliedBytes)) return;
        long index = n.snapshotIndex(lastApplied, log.lastIndex());
        snapshotPending = index;
        n.emit(new Effect.TakeSnapshot(index, log.termAt(index)));
    }

    void onSnapshotTaken(Event.SnapshotTaken e) {
        if (e.index() == snapshotPending) snapshotPending = 0;
        if (e.index() <= log.baseIndex()) {
            n.trace("snapshot %d taken, but the log is compacted to %d already", e.index(), log.baseIndex());
            return;
        }
        if (log.termAt(e.index()) != e.term())
            throw new IllegalStateException("snapshot " + e.index() + " reported with term " + e.term() + ", but that entry"
                    + " has term " + log.termAt(e.index()));
        log.compactTo(e.index());   // refuses what is not committed
        durableIndex = Math.max(durableIndex, e.index());
        appliedBytes = 0;
        for (long i = e.index() + 1; i <= lastApplied; i++) appliedBytes += log.entry(i).payloadSize();
        snapshotsTaken++;
        n.emit(new Effect.CompactLog(e.index(), e.term(), false));
    }

    void onSnapshotFailed(Event.SnapshotFailed e) {
        n.trace("snapshot %d failed: %s", e.index(), e.reason());
        if (e.index() == snapshotPending) {
            snapshotPending = 0;
            snapshotRetryAfter = lastApplied + policy.retryGap();
        }
        receiver.failed(e.index());
    }

    void onInstallSnapshotAck(InstallSnapshotAck a, long now) {
        if (leadership != null && leadership.term == n.state.term()) leadership.onSnapshotAck(a, now);
    }

    void onRequestFailed(Event.RequestFailed f) {
        if (leadership != null) leadership.requestFailed(f.to(), f.requestId());
    }

    /** Drops what relied on an older term: held acknowledgements name the term they were made in. */
    private void dropStaleAcks() {
        heldAcks.removeIf(h -> h.message().term() != n.state.term());
        receiver.dropUnlessDone(n.state.term());
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
        if (logProblem != null) {
            n.emit(new Effect.ClientFailed(w.requestId(), false, null, "this master cannot write its log: " + logProblem));
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
        retryLogWrite(now);
        if (leadership != null) leadership.onTime(now);
        applyCommitted();
        if (leadership != null) leadership.serveReads();
    }

    void applyCommitted() {
        while (lastApplied < log.commitIndex()) {
            lastApplied++;
            LogEntry e = log.entry(lastApplied);
            long id = leadership != null ? leadership.committed(e) : 0;
            appliedBytes += e.payloadSize();
            n.emit(new Effect.Apply(e, id));
        }
        maybeSnapshot();
    }

    long nextDeadlineNanos() {
        long d = leadership != null ? leadership.nextDeadlineNanos() : Long.MAX_VALUE;
        if (logProblem != null && logRetrySeq == 0 && logRetryAtNanos >= 0) d = Math.min(d, logRetryAtNanos);
        return d;
    }

    long lastIndex() {
        return log.lastIndex();
    }

    long lastTerm() {
        return log.lastTerm();
    }
}
