package io.quorumd.core;

import io.quorumd.log.LogEntry;
import io.quorumd.log.RaftLog;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.quorumd.core.ReplicationTest.MS;
import static io.quorumd.core.ReplicationTest.acks;
import static io.quorumd.core.ReplicationTest.all;
import static io.quorumd.core.ReplicationTest.appends;
import static io.quorumd.core.ReplicationTest.elect;
import static io.quorumd.core.ReplicationTest.handle;
import static io.quorumd.core.ReplicationTest.node;
import static io.quorumd.core.ReplicationTest.recv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Behaviours of the replicated log that a mutation run found unguarded (issue 16): answers held for
 * the disk across a term change, a truncation and a snapshot install, and answers of an older term
 * reaching a master. Every message and disk answer is delivered by hand at an explicit time.
 */
class ReplicationGapsTest {

    static Message.KeepAlive masterKeepAlive(String from, long term) {
        return new Message.KeepAlive(from, term, 9, 0, from, -1, 0, true, null, 0, 0);
    }

    /** Replication.afterEvent's dropStaleAcks: an answer held in term T is never sent once the node is in T + 1. */
    @Test
    void anAckHeldForTheDiskInTermTIsNeverSentAfterTheNodeAdoptsTermTPlusOne() {
        Node f = node("n1");
        List<Effect> sent = new ArrayList<>();
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, List.of(new LogEntry(1, 1, new byte[] {1})), 0)),
                10 * MS);
        sent.addAll(out);
        Effect.PersistLog w = all(out, Effect.PersistLog.class).get(0);
        assertTrue(acks(out).isEmpty(), () -> "acknowledged before the disk: " + out);
        sent.addAll(handle(f, recv(masterKeepAlive("n2", 2)), 20 * MS));
        assertEquals(2, f.term());
        List<Effect> durable = handle(f, new Event.LogPersisted(w.seq()), 30 * MS);
        sent.addAll(durable);
        assertTrue(acks(durable).isEmpty(), () -> "the answer held in term 1 went out in term 2: " + durable);
        // the entry is durable all the same: term 2's master is answered for it at once
        List<Effect> next = handle(f, recv(new Message.Append("n2", 2, 9, 31, 1, 1, List.of(), 0)), 40 * MS);
        sent.addAll(next);
        assertEquals(List.of(new Message.AppendAck("n1", 2, 1, 31, true, 1, 0, 0)), acks(next));
        for (Message.AppendAck a : acks(sent)) assertEquals(2, a.term(), () -> "an answer of term 1: " + sent);
    }

    /** TermGate.pass on an AppendAck: a success answer of an older term raises no match index and commits nothing. */
    @Test
    void aStaleTermSuccessAnswerNeitherRaisesTheMatchIndexNorCommits() {
        Node m = node("n0");
        handle(m, recv(masterKeepAlive("n2", 1)), 10 * MS);
        assertEquals(1, m.term());
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        assertEquals(Role.MASTER, m.role());
        assertEquals(2, m.term());
        Effect.PersistLog noop = all(won, Effect.PersistLog.class).get(0);
        long toN1 = appends(won).get(0).requestId();
        assertEquals("n1", all(won, Effect.Request.class).get(0).to());
        List<Effect> own = handle(m, new Event.LogPersisted(noop.seq()), t + 3 * MS);
        assertTrue(all(own, Effect.Apply.class).isEmpty(), "the master alone is no majority: " + own);
        // n1's answer from term 1 (say, to the append of an earlier mastership) names the request id in flight
        List<Effect> stale = handle(m, recv(new Message.AppendAck("n1", 1, 5, toN1, true, 1, 0, 0)), t + 4 * MS);
        assertTrue(all(stale, Effect.Apply.class).isEmpty(), () -> "committed on an answer of term 1: " + stale);
        assertEquals(Role.MASTER, m.role());
        assertEquals(2, m.term());
        // the same answer in term 2 commits the no-op
        List<Effect> fresh = handle(m, recv(new Message.AppendAck("n1", 2, 5, toN1, true, 1, 0, 0)), t + 5 * MS);
        List<Effect.Apply> applied = all(fresh, Effect.Apply.class);
        assertEquals(1, applied.size(), fresh::toString);
        assertEquals(1, applied.get(0).entry().index());
    }

    /** TermGate.pass on an InstallSnapshotAck: an "installed" answer of an older term does not move the follower on. */
    @Test
    void aStaleTermInstalledAnswerDoesNotEndTheSnapshotTransfer() {
        Node m = node("n0");
        m.recoverLog(new RaftLog(10, 1, List.of(), 10));
        handle(m, recv(masterKeepAlive("n2", 1)), 10 * MS);
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        assertEquals(Role.MASTER, m.role());
        assertEquals(2, m.term());
        // n1's log is empty: it refuses, and its next index (1) is compacted
        List<Effect> refused = new ArrayList<>();
        for (Effect.Request r : all(won, Effect.Request.class))
            if (r.to().equals("n1") && r.message() instanceof Message.Append a)
                refused.addAll(handle(m, recv(new Message.AppendAck("n1", 2, 5, a.requestId(), false, 0, 1, 0)), t + 3 * MS));
        List<Effect.SendSnapshot> sends = all(refused, Effect.SendSnapshot.class);
        assertEquals(1, sends.size(), refused::toString);
        Message.InstallSnapshot c = sends.get(0).chunk();
        assertEquals(2, c.term());
        List<Effect> stale = handle(m, recv(new Message.InstallSnapshotAck("n1", 1, 5, c.requestId(), true, 10, 0)),
                t + 4 * MS);
        assertTrue(appends(stale).isEmpty() && all(stale, Effect.SendSnapshot.class).isEmpty(),
                () -> "moved on by an answer of term 1: " + stale);
        assertEquals(Role.MASTER, m.role());
        // the same answer in term 2 ends the transfer: appends resume after the snapshot
        List<Effect> done = handle(m, recv(new Message.InstallSnapshotAck("n1", 2, 5, c.requestId(), true, 10, 0)),
                t + 5 * MS);
        Message.Append resumed = null;
        for (Effect.Request r : all(done, Effect.Request.class))
            if (r.to().equals("n1") && r.message() instanceof Message.Append a) resumed = a;
        assertNotNull(resumed, done::toString);
        assertEquals(10, resumed.prevIndex());
    }

    /**
     * Replication.persist's ceiling of outstanding writes on a truncation: the older write's LogPersisted
     * does not make the entries that replaced those it held durable, so they are not acknowledged before
     * their own write is.
     */
    @Test
    void anOlderWritesLogPersistedDoesNotMakeTheEntriesThatReplacedItsOwnDurable() {
        Node f = node("n1");
        List<Effect> first = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0,
                List.of(new LogEntry(1, 1, new byte[] {1}), new LogEntry(2, 1, new byte[] {2})), 0)), 10 * MS);
        Effect.PersistLog w1 = all(first, Effect.PersistLog.class).get(0);
        // term 2's master has another entry 2: it replaces the one write 1 holds
        LogEntry replacing = new LogEntry(2, 2, new byte[] {3});
        List<Effect> second = handle(f, recv(new Message.Append("n2", 2, 9, 21, 1, 1, List.of(replacing), 0)), 20 * MS);
        assertEquals(2, f.term());
        Effect.PersistLog w2 = all(second, Effect.PersistLog.class).get(0);
        assertEquals(2, w2.truncateFrom(), second::toString);
        assertEquals(List.of(replacing), w2.entries());
        assertTrue(acks(second).isEmpty(), () -> "acknowledged before the disk: " + second);
        List<Effect> older = handle(f, new Event.LogPersisted(w1.seq()), 30 * MS);
        assertTrue(acks(older).isEmpty(), () -> "entry 2 of term 2 acknowledged on the write of entry 2 of term 1: " + older);
        List<Effect> own = handle(f, new Event.LogPersisted(w2.seq()), 40 * MS);
        assertEquals(List.of(new Message.AppendAck("n1", 2, 1, 21, true, 2, 0, 0)), acks(own));
    }

    /**
     * Replication.onSnapshotReceived's removeIf: an answer held for entries that the snapshot install
     * discarded is never sent, even once other entries at those indexes are durable. (The master here
     * sends a snapshot whose last term disagrees with entries it appended in the same term: only such
     * an input reaches the rule, as a held answer of an older term is dropped already.)
     */
    @Test
    void anAnswerHeldForEntriesASnapshotDiscardedIsNeverSent() {
        Node f = node("n1");
        List<Effect> sent = new ArrayList<>();
        List<Effect> out = handle(f, recv(new Message.Append("n0", 2, 9, 11, 0, 0, SnapshotTest.entries(1, 3, 1), 0)),
                10 * MS);
        sent.addAll(out);
        Effect.PersistLog w1 = all(out, Effect.PersistLog.class).get(0);
        assertTrue(acks(out).isEmpty(), out::toString);
        sent.addAll(handle(f, recv(SnapshotTest.chunk(2, 21, 2, 2, 0, 10, true)), 20 * MS));
        List<Effect> got = handle(f, new Event.SnapshotReceived(2, 2), 21 * MS);
        sent.addAll(got);
        assertEquals(List.of(new Effect.CompactLog(2, 2, true)), all(got, Effect.CompactLog.class), "the log after it goes");
        assertEquals(2, f.lastLogIndex());
        sent.addAll(handle(f, new Event.LogPersisted(w1.seq()), 30 * MS));
        // a new entry 3 from the master, durable: only its own answer goes out
        List<Effect> next = handle(f, recv(new Message.Append("n0", 2, 9, 31, 2, 2, SnapshotTest.entries(3, 3, 2), 0)),
                40 * MS);
        sent.addAll(next);
        Effect.PersistLog w2 = all(next, Effect.PersistLog.class).get(0);
        List<Effect> durable = handle(f, new Event.LogPersisted(w2.seq()), 50 * MS);
        sent.addAll(durable);
        assertEquals(List.of(new Message.AppendAck("n1", 2, 1, 31, true, 3, 0, 0)), acks(durable));
        for (Message.AppendAck a : acks(sent)) assertTrue(a.requestId() != 11, () -> "the answer for the discarded entries: " + sent);
    }
}
