package io.quorumd.core;

import io.quorumd.core.Message.Append;
import io.quorumd.core.Message.AppendAck;
import io.quorumd.core.Message.InstallSnapshot;
import io.quorumd.core.Message.InstallSnapshotAck;
import io.quorumd.log.AppendResult;
import io.quorumd.log.LogEntry;
import io.quorumd.log.RaftLog;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A master's side of the replicated log, for one term: next and match index per follower, one
 * append in flight per follower (a request: its answer or its time-out frees the slot), the commit
 * rule over durable match indexes, and the client requests waiting for a commit or a read round.
 * Created when the node becomes master and dropped when it stops being master; {@link #end} fails
 * what it still holds (a write that may commit elsewhere is "outcome unknown").
 *
 * <p>An idle master sends no appends (issue 12): its lease comes from the echoes of its keep-alives
 * ({@link Lease}), not from appends, so an append goes to a follower only when the follower needs
 * one ({@link #sendAppends}): it lacks entries (its next index is not past the last, which also
 * covers a refused or lost append, since only an answer moves the next index), it is not known to
 * hold the current commit index (known only from its answer to an append that carried it, and
 * forgotten when the follower's agent restarts, which loses it), a read's round waits for its
 * answer, or a read round or a snapshot transfer asks for one at once. After a failed request the
 * retry waits until a heartbeat after the failed one was sent. Followers learn the commit index only
 * from appends (Raft's rule: an append that proves their log matches), never from keep-alives.
 *
 * <p>Reads follow Raft's ReadIndex (dissertation §6.4): once this term's no-op is committed, a read
 * takes the commit index as its read index, then a round of appends starts; it is served once a
 * majority (this node included) answered an append sent after that, in this term, and the applied
 * index reached the read index. The lease is not used for reads: a refused connection ends a
 * follower's stickiness early (SPEC), so a new master may commit while the old one's lease lasts.
 *
 * <p>A follower whose next index is compacted into the snapshot gets the snapshot instead of an
 * append ({@link RaftLog#needsSnapshot}): chunk by chunk, one request in flight, each chunk named by
 * an {@link Effect.SendSnapshot} that the world fills from its stored snapshot. The follower's answer
 * names the offset it wants next; {@code installed} makes its match index the snapshot's. A newer
 * snapshot meanwhile restarts the transfer at offset 0; a failed or lost chunk is sent again a
 * heartbeat later.
 */
final class Leadership {
    private final Node n;
    private final Replication r;
    final long term;
    long noopIndex;

    private final Map<String, Long> next = new TreeMap<>();
    private final Map<String, Long> match = new TreeMap<>();
    /**
     * per follower, the request in flight: {request id, the next index it was sent from, the commit
     * index an append carried (-1: a snapshot chunk)}; absent: none
     */
    private final Map<String, long[]> inFlight = new TreeMap<>();
    /** newest request id each follower answered in this term (a read round counts those above its start) */
    private final Map<String, Long> answered = new TreeMap<>();
    /**
     * The commit index each follower is known to hold: {@code min(leaderCommit, matchIndex)} of its
     * successful answer to an append, learned from its agent run {@link #knownBoot} (a restart loses it).
     */
    private final Map<String, Long> knownCommit = new TreeMap<>();
    private final Map<String, Long> knownBoot = new TreeMap<>();
    /** send time of the last request per follower; {@link Long#MIN_VALUE}: one is to go at once */
    private final Map<String, Long> sentAtNanos = new TreeMap<>();
    /** after a failed append: no retry before this time; {@link Long#MIN_VALUE}: none waiting */
    private final Map<String, Long> retryAtNanos = new TreeMap<>();
    /** per follower getting the snapshot: {snapshot index, its last term, offset of the next chunk} */
    private final Map<String, long[]> snapshotSends = new TreeMap<>();

    private record Write(long requestId, long deadlineNanos) {}

    private static final class Read {
        final long requestId;
        final long deadlineNanos;
        long readIndex = -1;
        long round = -1;

        Read(long requestId, long deadlineNanos) {
            this.requestId = requestId;
            this.deadlineNanos = deadlineNanos;
        }
    }

    /** writes waiting for their entry to be applied, by index */
    private final TreeMap<Long, Write> writes = new TreeMap<>();
    private final List<Read> reads = new ArrayList<>();

    Leadership(Node n, Replication r, long term) {
        this.n = n;
        this.r = r;
        this.term = term;
        for (String p : n.peers.others()) {
            next.put(p, r.log.lastIndex() + 1);
            match.put(p, 0L);
            answered.put(p, -1L);
            knownCommit.put(p, -1L);
            knownBoot.put(p, 0L);
            sentAtNanos.put(p, Long.MIN_VALUE);
            retryAtNanos.put(p, Long.MIN_VALUE);
        }
    }

    private long deadline(long now) {
        return now + n.timing.electionTimeoutNanos();
    }

    void propose(long requestId, byte[] payload, long now) {
        LogEntry e = r.log.appendAsMaster(term, payload);
        writes.put(e.index(), new Write(requestId, deadline(now)));
        r.persistOwn(e);
        sendAppends(now);
    }

    void read(long requestId, long now) {
        reads.add(new Read(requestId, deadline(now)));
        onTime(now);
    }

    /** Entry {@code e} is committed and about to be applied: the request it answers, or 0. */
    long committed(LogEntry e) {
        Write w = writes.remove(e.index());
        return w != null && e.term() == term ? w.requestId : 0;
    }

    void onAck(AppendAck a, long now) {
        String p = a.from();
        if (!next.containsKey(p)) return;
        long[] f = inFlight.get(p);
        long sentNext = -1;
        long sentCommit = -1;
        if (f != null && f[0] == a.requestId()) {
            inFlight.remove(p);
            sentNext = f[1];
            sentCommit = f[2];
        }
        answered.merge(p, a.requestId(), Math::max);
        if (a.success()) {
            if (a.matchIndex() > r.log.lastIndex())
                throw new IllegalStateException(p + " acknowledged index " + a.matchIndex() + " but master " + n.self
                        + "'s log ends at " + r.log.lastIndex() + " in term " + term);
            if (a.matchIndex() > match.get(p)) match.put(p, a.matchIndex());
            next.put(p, Math.max(next.get(p), match.get(p) + 1));
            // the follower took the append's commit index up to the last entry it matched (RaftLog.appendFromLeader)
            if (sentCommit >= 0) learnCommit(p, a.bootId(), Math.min(sentCommit, a.matchIndex()));
            advanceCommit(now);
        } else if (sentNext > 0) {
            long to = r.log.nextIndexAfterReject(sentNext,
                    new AppendResult.Rejected(a.conflictIndex(), a.conflictTerm(), "refused"));
            next.put(p, Math.max(match.get(p) + 1, to));
        }
        onTime(now);
    }

    void requestFailed(String to, long requestId) {
        long[] f = inFlight.get(to);
        if (f == null || f[0] != requestId) return;
        inFlight.remove(to);
        // an append's retry waits a heartbeat from the failed one (a snapshot chunk paces itself;
        // a read round that began meanwhile asked for one at once)
        long sent = sentAtNanos.get(to);
        if (f[2] >= 0 && sent != Long.MIN_VALUE) retryAtNanos.put(to, sent + n.timing.heartbeatNanos());
    }

    /** Follower {@code p}'s agent run {@code bootId} holds commit index {@code commit} (or more). */
    private void learnCommit(String p, long bootId, long commit) {
        if (knownBoot.get(p) != bootId) {
            knownBoot.put(p, bootId);
            knownCommit.put(p, commit);
        } else if (commit > knownCommit.get(p)) {
            knownCommit.put(p, commit);
        }
    }

    /**
     * False while follower {@code p} is known to hold this master's commit index: it answered an
     * append that carried it, and no frame from another run of its agent came since.
     */
    private boolean commitUnknown(String p) {
        return knownCommit.get(p) < r.log.commitIndex() || n.peerTable.bootId(p) != knownBoot.get(p);
    }

    /** A follower's answer to a chunk of the snapshot. */
    void onSnapshotAck(InstallSnapshotAck a, long now) {
        String p = a.from();
        if (!next.containsKey(p)) return;
        long[] f = inFlight.get(p);
        if (f != null && f[0] == a.requestId()) inFlight.remove(p);
        answered.merge(p, a.requestId(), Math::max);
        long[] s = snapshotSends.get(p);
        if (a.installed()) {
            if (a.lastIndex() > r.log.lastIndex())
                throw new IllegalStateException(p + " installed snapshot " + a.lastIndex() + " but master " + n.self
                        + "'s log ends at " + r.log.lastIndex() + " in term " + term);
            if (a.lastIndex() > match.get(p)) match.put(p, a.lastIndex());
            next.put(p, Math.max(next.get(p), match.get(p) + 1));
            if (s != null && s[0] <= a.lastIndex()) snapshotSends.remove(p);
            // installed, or already committed there: its commit index is at least the snapshot's
            learnCommit(p, a.bootId(), a.lastIndex());
            advanceCommit(now);
        } else if (s != null && s[0] == a.lastIndex()) {
            s[2] = a.nextOffset();
            sentAtNanos.put(p, Long.MIN_VALUE);   // the next chunk at once
        }
        onTime(now);
    }

    /** The commit rule over durable match indexes, this master's own durable index included. */
    void advanceCommit(long now) {
        long[] m = new long[match.size() + 1];
        int i = 0;
        m[i++] = n.ackableIndex(r.durableIndex, r.log.lastIndex());
        for (long x : match.values()) m[i++] = x;
        if (r.log.advanceCommit(term, n.commitVotes(m))) r.applyCommitted();
    }

    void onTime(long now) {
        // reads take their index once this term's no-op is committed, then start their round
        boolean noopCommitted = r.log.commitIndex() >= noopIndex;
        boolean round = false;
        for (Read x : reads) {
            if (x.readIndex < 0 && noopCommitted) {
                x.readIndex = r.log.commitIndex();
                x.round = n.nextRequestId();
                round = true;
            }
        }
        if (round) {
            for (String p : next.keySet()) sentAtNanos.put(p, Long.MIN_VALUE);   // a fresh append to every follower
        }
        sendAppends(now);
        failExpired(now);
    }

    /**
     * An append to each follower that needs one and has none in flight: it lacks entries, is not
     * known to hold the commit index, owes a read round its answer, or one is asked at once (a read
     * round, a snapshot transfer); a retry after a failure waits until its time. Nothing else: an
     * idle master whose followers hold every entry and the commit index sends none.
     */
    private void sendAppends(long now) {
        long newestRound = -1;
        for (Read x : reads) newestRound = Math.max(newestRound, x.round);
        for (String p : next.keySet()) {
            if (inFlight.containsKey(p)) continue;
            long nx = next.get(p);
            boolean atOnce = sentAtNanos.get(p) == Long.MIN_VALUE;
            long retryAt = retryAtNanos.get(p);
            if (retryAt != Long.MIN_VALUE && now >= retryAt) retryAtNanos.put(p, retryAt = Long.MIN_VALUE);
            boolean due = nx <= r.log.lastIndex() || commitUnknown(p) || answered.get(p) < newestRound || atOnce;
            if (r.log.needsSnapshot(nx)) {
                sendSnapshot(p, now);
                continue;
            }
            snapshotSends.remove(p);
            if (!due || (retryAt != Long.MIN_VALUE && !atOnce)) continue;
            long prev = nx - 1;
            List<LogEntry> batch = new ArrayList<>();
            int bytes = 0;
            for (LogEntry e : r.log.entriesFrom(nx, Replication.MAX_ENTRIES_PER_APPEND)) {
                if (!batch.isEmpty() && bytes + e.payloadSize() > Replication.MAX_APPEND_PAYLOAD_BYTES) break;
                batch.add(e);
                bytes += e.payloadSize();
            }
            long id = n.nextRequestId();
            inFlight.put(p, new long[] {id, nx, r.log.commitIndex()});
            sentAtNanos.put(p, now);
            retryAtNanos.put(p, Long.MIN_VALUE);
            n.send(new Effect.Request(p, new Append(n.self, term, n.bootId, id, prev, prev == 0 ? 0 : r.log.termAt(prev),
                    batch, r.log.commitIndex())));
        }
    }

    /** The next chunk of the current snapshot to {@code p}: at once after an answer, else once a heartbeat. */
    private void sendSnapshot(String p, long now) {
        RaftLog log = r.log;
        long[] s = snapshotSends.get(p);
        if (s == null || s[0] != log.baseIndex()) {
            s = new long[] {log.baseIndex(), log.baseTerm(), 0};
            snapshotSends.put(p, s);
            sentAtNanos.put(p, Long.MIN_VALUE);
        }
        long sent = sentAtNanos.get(p);
        if (sent != Long.MIN_VALUE && now - sent < n.timing.heartbeatNanos()) return;
        long id = n.nextRequestId();
        inFlight.put(p, new long[] {id, next.get(p), -1});
        sentAtNanos.put(p, now);
        retryAtNanos.put(p, Long.MIN_VALUE);
        n.send(new Effect.SendSnapshot(p, new InstallSnapshot(n.self, term, n.bootId, id, s[0], s[1], s[2], new byte[0],
                false)));
    }

    /** Reads whose round a majority answered and whose index is applied are served. */
    void serveReads() {
        for (Iterator<Read> it = reads.iterator(); it.hasNext(); ) {
            Read x = it.next();
            if (x.round < 0 || r.lastApplied < x.readIndex) continue;
            int confirmed = 1;
            for (long a : answered.values()) if (a > x.round) confirmed++;
            if (!n.readConfirmed(confirmed >= n.peers.majority())) continue;
            it.remove();
            n.emit(new Effect.ReadReady(x.requestId));
        }
    }

    private void failExpired(long now) {
        for (Iterator<Map.Entry<Long, Write>> it = writes.entrySet().iterator(); it.hasNext(); ) {
            Write w = it.next().getValue();
            if (now < w.deadlineNanos) continue;
            it.remove();
            n.emit(new Effect.ClientFailed(w.requestId, true, null,
                    "not committed within " + Node.ms(n.timing.electionTimeoutNanos()) + " ms: no majority answered"));
        }
        for (Iterator<Read> it = reads.iterator(); it.hasNext(); ) {
            Read x = it.next();
            if (now < x.deadlineNanos) continue;
            it.remove();
            n.emit(new Effect.ClientFailed(x.requestId, false, null,
                    "no majority confirmed this master within " + Node.ms(n.timing.electionTimeoutNanos()) + " ms"));
        }
    }

    long nextDeadlineNanos() {
        long d = Long.MAX_VALUE;
        for (long x : retryAtNanos.values()) if (x != Long.MIN_VALUE) d = Math.min(d, x);
        for (Write w : writes.values()) d = Math.min(d, w.deadlineNanos);
        for (Read x : reads) d = Math.min(d, x.deadlineNanos);
        return d;
    }

    /** Mastership of this term is over: writes may still commit under another master, reads never ran. */
    void end(String why) {
        for (Write w : writes.values())
            n.emit(new Effect.ClientFailed(w.requestId, true, null, "outcome unknown: " + why + " before it committed"));
        writes.clear();
        for (Read x : reads) n.emit(new Effect.ClientFailed(x.requestId, false, null, why));
        reads.clear();
    }
}
