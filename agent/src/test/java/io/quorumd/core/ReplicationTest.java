package io.quorumd.core;

import io.quorumd.log.LogEntry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replicated log on one node at a time, every message and disk answer delivered by hand: what a
 * follower acknowledges and when, what a master commits and when, and how client requests end.
 * (The simulator checks the same rules under faults; these pin the order of the effects.)
 */
class ReplicationTest {
    static final long MS = Timing.MS;
    static final Timing TIMING = new Timing(100 * MS, 1000 * MS, 0.01, 1000 * MS, 60_000 * MS);
    static final List<Peer> PEERS = List.of(new Peer("n0", 100), new Peer("n1", 100), new Peer("n2", 100));

    static Node node(String id) {
        return new Node(new NodeConfig(new Peers(id, PEERS), TIMING, false, true), TermState.INITIAL, 1,
                null, new SplittableRandom(1), 0);
    }

    static <T extends Effect> List<T> all(List<Effect> effects, Class<T> type) {
        List<T> out = new ArrayList<>();
        for (Effect e : effects) if (type.isInstance(e)) out.add(type.cast(e));
        return out;
    }

    static List<Message.AppendAck> acks(List<Effect> effects) {
        List<Message.AppendAck> out = new ArrayList<>();
        for (Effect.Respond r : all(effects, Effect.Respond.class))
            if (r.message() instanceof Message.AppendAck a) out.add(a);
        return out;
    }

    static List<Message.Append> appends(List<Effect> effects) {
        List<Message.Append> out = new ArrayList<>();
        for (Effect.Request r : all(effects, Effect.Request.class))
            if (r.message() instanceof Message.Append a) out.add(a);
        return out;
    }

    static Event recv(Message m) {
        return new Event.Received(m);
    }

    /** Persists every term write at once (the test is about the log's writes). */
    static List<Effect> handle(Node n, Event e, long now) {
        List<Effect> out = new ArrayList<>(n.handle(e, now));
        for (Effect.Persist p : all(new ArrayList<>(out), Effect.Persist.class)) out.addAll(n.handle(new Event.Persisted(p.seq()), now));
        return out;
    }

    @Test
    void aFollowerAcknowledgesOnlyWhatItsDiskHolds() {
        Node f = node("n1");
        LogEntry e1 = new LogEntry(1, 1, new byte[0]);
        LogEntry e2 = new LogEntry(2, 1, new byte[] {7});
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, List.of(e1, e2), 0)), 10 * MS);
        List<Effect.PersistLog> writes = all(out, Effect.PersistLog.class);
        assertEquals(1, writes.size(), out::toString);
        assertEquals(List.of(e1, e2), writes.get(0).entries());
        assertTrue(acks(out).isEmpty(), () -> "acknowledged before the disk: " + out);
        // a repeated append (the master's retry) writes nothing new and still waits for the same write
        List<Effect> again = handle(f, recv(new Message.Append("n0", 1, 9, 12, 0, 0, List.of(e1, e2), 0)), 11 * MS);
        assertTrue(all(again, Effect.PersistLog.class).isEmpty() && acks(again).isEmpty(), again::toString);
        List<Effect> done = handle(f, new Event.LogPersisted(writes.get(0).seq()), 12 * MS);
        List<Message.AppendAck> acked = acks(done);
        assertEquals(2, acked.size(), done::toString);
        for (Message.AppendAck a : acked) assertTrue(a.success() && a.matchIndex() == 2, a::toString);
        assertEquals(2, f.lastLogIndex());
        assertEquals(1, f.lastLogTerm());
    }

    @Test
    void aFollowerRefusesAGapWithTheHintAndAppliesOnlyWhatTheMasterCommitted() {
        Node f = node("n1");
        List<Effect> gap = handle(f, recv(new Message.Append("n0", 1, 9, 11, 5, 1, List.of(), 5)), 10 * MS);
        Message.AppendAck no = acks(gap).get(0);
        assertFalse(no.success());
        assertEquals(1, no.conflictIndex(), "the end of its empty log + 1");
        LogEntry e1 = new LogEntry(1, 1, new byte[0]);
        LogEntry e2 = new LogEntry(2, 1, new byte[] {7});
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 12, 0, 0, List.of(e1, e2), 1)), 11 * MS);
        List<Effect.Apply> applied = all(out, Effect.Apply.class);
        assertEquals(1, applied.size(), "only the committed entry: " + out);
        assertEquals(e1, applied.get(0).entry());
        assertEquals(0, applied.get(0).requestId());
    }

    @Test
    void aVoterRefusesACandidateWhoseLogIsBehind() {
        Node f = node("n1");
        LogEntry e1 = new LogEntry(1, 1, new byte[0]);
        handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, List.of(e1), 0)), 10 * MS);
        // long after the master fell silent, so stickiness is not what refuses
        long later = 10_000 * MS;
        List<Effect> out = handle(f, recv(new Message.VoteRequest("n2", 2, 3, 21, false, later, 0, 0, null)), later);
        Message.VoteResponse r = (Message.VoteResponse) all(out, Effect.Respond.class).get(0).message();
        assertFalse(r.granted());
        assertTrue(r.reason().contains("log"), r.reason());
        List<Effect> ok = handle(f, recv(new Message.VoteRequest("n2", 2, 3, 22, false, later, 1, 1, null)), later + MS);
        Message.VoteResponse g = (Message.VoteResponse) all(ok, Effect.Respond.class).get(0).message();
        assertTrue(g.granted(), g::toString);
    }

    /** Elects n0 by hand: a pre-vote and a vote from n1. Returns the effects of its win. */
    static List<Effect> elect(Node m, long now) {
        List<Effect> pre = handle(m, new Event.Tick(), now);
        Message.VoteRequest pv = (Message.VoteRequest) all(pre, Effect.Request.class).get(0).message();
        List<Effect> cand = handle(m, recv(new Message.VoteResponse("n1", pv.term(), 5, pv.requestId(), true, true, "", -1,
                MasterReport.NONE)), now + MS);
        Message.VoteRequest v = (Message.VoteRequest) all(cand, Effect.Request.class).get(0).message();
        return handle(m, recv(new Message.VoteResponse("n1", v.term(), 5, v.requestId(), false, true, "", v.sentAtNanos(),
                MasterReport.NONE)), now + 2 * MS);
    }

    @Test
    void aMasterCommitsByAMajorityOfDurableIndexesAndAnswersTheClientInOrder() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        assertEquals(Role.MASTER, m.role());
        Effect.PersistLog noop = all(won, Effect.PersistLog.class).get(0);
        assertEquals(0, noop.entries().get(0).payloadSize(), "Raft's no-op comes first");
        List<Effect> w = handle(m, new Event.ClientWrite(77, new byte[] {1, 2, 3}), t + 3 * MS);
        Effect.PersistLog own = all(w, Effect.PersistLog.class).get(0);
        // a follower's acknowledgement of both entries: a majority with the master only once its own disk has them
        long id = appends(w).isEmpty() ? appends(won).get(0).requestId() : appends(w).get(0).requestId();
        List<Effect> acked = handle(m, recv(new Message.AppendAck("n1", m.term(), 5, id, true, 2, 0, 0)), t + 4 * MS);
        assertTrue(all(acked, Effect.Apply.class).isEmpty(), () -> "committed before the master's own disk: " + acked);
        List<Effect> first = handle(m, new Event.LogPersisted(noop.seq()), t + 5 * MS);
        List<Effect.Apply> a1 = all(first, Effect.Apply.class);
        assertEquals(1, a1.size(), first::toString);
        assertEquals(1, a1.get(0).entry().index());
        List<Effect> second = handle(m, new Event.LogPersisted(own.seq()), t + 6 * MS);
        List<Effect.Apply> a2 = all(second, Effect.Apply.class);
        assertEquals(1, a2.size(), second::toString);
        assertEquals(2, a2.get(0).entry().index());
        assertEquals(77, a2.get(0).requestId(), "the write is answered by its apply");
    }

    @Test
    void aReadWaitsForAMajorityToConfirmTheMasterAfterItArrived() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        Effect.PersistLog noop = all(won, Effect.PersistLog.class).get(0);
        handle(m, new Event.LogPersisted(noop.seq()), t + 3 * MS);
        long toN1 = appends(won).get(0).requestId();   // the first appends go to n1, then n2 (peer order)
        long toN2 = appends(won).get(1).requestId();
        handle(m, recv(new Message.AppendAck("n1", m.term(), 5, toN1, true, 1, 0, 0)), t + 4 * MS);   // no-op committed
        List<Effect> read = handle(m, new Event.ClientRead(88), t + 5 * MS);
        assertTrue(all(read, Effect.ReadReady.class).isEmpty(), () -> "served without a round: " + read);
        // an answer to an append sent before the read does not confirm it; it frees n2 for the round's append
        List<Effect> old = handle(m, recv(new Message.AppendAck("n2", m.term(), 6, toN2, true, 1, 0, 0)), t + 6 * MS);
        assertTrue(all(old, Effect.ReadReady.class).isEmpty(), old::toString);
        Message.Append round = appends(old).get(0);
        List<Effect> confirmed = handle(m, recv(new Message.AppendAck("n2", m.term(), 6, round.requestId(), true, 1, 0, 0)),
                t + 7 * MS);
        assertEquals(88, all(confirmed, Effect.ReadReady.class).get(0).requestId(), confirmed::toString);
    }

    @Test
    void requestsToAFollowerOrWithoutAMajorityEndWithinTheElectionTimeout() {
        Node f = node("n1");
        handle(f, recv(new Message.KeepAlive("n0", 1, 9, 0, "n0", -1, 0, false, null, 0, 0)), 10 * MS);
        Effect.ClientFailed refused = all(handle(f, new Event.ClientWrite(5, new byte[] {1}), 11 * MS),
                Effect.ClientFailed.class).get(0);
        assertFalse(refused.outcomeUnknown());
        assertEquals("n0", refused.master(), "names the master to retry at");

        Node m = node("n0");
        long t = 5_000 * MS;
        elect(m, t);
        handle(m, new Event.ClientWrite(6, new byte[] {1}), t + 3 * MS);
        handle(m, new Event.ClientRead(7), t + 3 * MS);
        assertTrue(m.nextDeadlineNanos() <= t + 3 * MS + TIMING.electionTimeoutNanos());
        List<Effect> late = handle(m, new Event.Tick(), t + 3 * MS + TIMING.electionTimeoutNanos());
        List<Effect.ClientFailed> failed = all(late, Effect.ClientFailed.class);
        assertEquals(2, failed.size(), late::toString);
        for (Effect.ClientFailed x : failed) assertEquals(x.requestId() == 6, x.outcomeUnknown(), x::toString);
    }
}
