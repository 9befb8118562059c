package io.quorumd.core;

import io.quorumd.log.LogEntry;
import io.quorumd.log.RaftLog;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.quorumd.core.ReplicationTest.MS;
import static io.quorumd.core.ReplicationTest.acks;
import static io.quorumd.core.ReplicationTest.all;
import static io.quorumd.core.ReplicationTest.appends;
import static io.quorumd.core.ReplicationTest.elect;
import static io.quorumd.core.ReplicationTest.handle;
import static io.quorumd.core.ReplicationTest.node;
import static io.quorumd.core.ReplicationTest.recv;
import static io.quorumd.core.ReplicationTest.PEERS;
import static io.quorumd.core.ReplicationTest.TIMING;
import static io.quorumd.core.SnapshotTest.chunk;
import static io.quorumd.core.SnapshotTest.entries;
import static io.quorumd.core.SnapshotTest.followerWith;
import static io.quorumd.core.SnapshotTest.snapshotAcks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    // ---------------------------------------------------------------- the master's appends

    /** The append to {@code peer} among {@code effects}, or null. */
    static Message.Append appendTo(List<Effect> effects, String peer) {
        Message.Append out = null;
        for (Effect.Request r : all(effects, Effect.Request.class))
            if (r.to().equals(peer) && r.message() instanceof Message.Append a) {
                assertNull(out, () -> "two appends to " + peer + " in one event: " + effects);
                out = a;
            }
        return out;
    }

    /** Leadership.onAck's next index after a success: the next append starts after the entries acknowledged. */
    @Test
    void theAppendAfterASuccessStartsAfterTheEntriesItAcknowledged() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        Effect.PersistLog noop = all(won, Effect.PersistLog.class).get(0);
        handle(m, new Event.LogPersisted(noop.seq()), t + 3 * MS);
        Message.Append first = appendTo(won, "n1");
        assertEquals(0, first.prevIndex());
        assertEquals(1, first.entries().size());
        List<Effect> acked = handle(m, recv(new Message.AppendAck("n1", m.term(), 5, first.requestId(), true, 1, 0, 0)),
                t + 4 * MS);
        // the no-op is committed (n0 and n1): n1 hears of the commit at once, with nothing resent
        Message.Append next = appendTo(acked, "n1");
        assertNotNull(next, acked::toString);
        assertEquals(1, next.prevIndex(), next::toString);
        assertEquals(m.term(), next.prevTerm());
        assertTrue(next.entries().isEmpty(), next::toString);
        assertEquals(1, next.leaderCommit());
    }

    /**
     * Leadership.onAck's reject branch: a refusal (here one arriving after a success of the same
     * follower, with a hint below what it acknowledged) never moves its next index below match + 1.
     */
    @Test
    void aRefusalAfterASuccessDoesNotMoveTheNextIndexBelowTheMatch() {
        Node m = node("n0");
        m.recoverLog(new RaftLog(0, 0, entries(1, 3, 1), 3));
        handle(m, recv(masterKeepAlive("n2", 1)), 10 * MS);
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        assertEquals(Role.MASTER, m.role());
        Message.Append inFlight = appendTo(won, "n1");
        assertEquals(3, inFlight.prevIndex());
        assertEquals(4, inFlight.entries().get(0).index(), "the no-op");
        // n1 acknowledges everything (an answer to another request), then refuses the append in flight
        List<Effect> after = new ArrayList<>();
        after.addAll(handle(m, recv(new Message.AppendAck("n1", m.term(), 5, 999, true, 4, 0, 0)), t + 3 * MS));
        after.addAll(handle(m, recv(new Message.AppendAck("n1", m.term(), 5, inFlight.requestId(), false, 0, 2, 0)),
                t + 4 * MS));
        after.addAll(handle(m, new Event.Tick(), t + 2 * MS + TIMING.heartbeatNanos()));
        List<Message.Append> toN1 = new ArrayList<>();
        for (Effect.Request r : all(after, Effect.Request.class))
            if (r.to().equals("n1") && r.message() instanceof Message.Append a) toN1.add(a);
        assertEquals(1, toN1.size(), after::toString);
        assertEquals(4, toN1.get(0).prevIndex(), () -> "went back behind n1's match index 4: " + toN1);
        assertTrue(toN1.get(0).entries().isEmpty());
    }

    /**
     * Leadership.requestFailed (with Replication's and Node's calls): a failed append frees its peer;
     * the retry goes a heartbeat after the failed one was sent (at once here, as that is past), and
     * a failure of another request frees nothing.
     */
    @Test
    void aFailedAppendRequestFreesItsPeerForTheNextAppend() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        Message.Append lost = appendTo(won, "n1");
        assertNotNull(lost, won::toString);
        long late = t + TIMING.heartbeatNanos() + 3 * MS;
        // a failure of a request that is not the one in flight frees nothing, even a heartbeat on
        List<Effect> other = handle(m, new Event.RequestFailed("n1", lost.requestId() + 1000, "connection refused"), late);
        other.addAll(handle(m, new Event.Tick(), late));
        assertNull(appendTo(other, "n1"), other::toString);
        List<Effect> failed = handle(m, new Event.RequestFailed("n1", lost.requestId(), "connection refused"), late + MS);
        Message.Append again = appendTo(failed, "n1");
        assertNotNull(again, () -> "n1 still counted in flight: " + failed);
        assertTrue(again.requestId() != lost.requestId());
        assertEquals(0, again.prevIndex());
        assertEquals(1, again.entries().size(), "the no-op again");
        assertNull(appendTo(failed, "n2"), "n2's append is still in flight");
    }

    /**
     * Leadership.failExpired: a write and a read that no majority answers fail at their deadline while
     * the node is still master (its keep-alives are echoed; only the appends go unanswered).
     */
    @Test
    void aWriteAndAReadNoMajorityAnswersFailAtTheirDeadlineWhileTheNodeStaysMaster() {
        Node m = node("n0");
        long t = 5_000 * MS;
        elect(m, t);
        long asked = t + 3 * MS;
        handle(m, new Event.ClientWrite(6, new byte[] {1}), asked);
        handle(m, new Event.ClientRead(7), asked);
        long deadline = asked + TIMING.electionTimeoutNanos();
        List<Effect> before = new ArrayList<>();
        long now = asked;
        while (true) {
            now = Math.min(deadline, now + TIMING.heartbeatNanos() / 2);
            List<Effect> out = handle(m, new Event.Tick(), now);
            for (Effect.Publish p : all(out, Effect.Publish.class))
                for (String f : List.of("n1", "n2"))
                    out.addAll(handle(m, recv(new Message.KeepAlive(f, m.term(), 5, now, "n0", p.keepAlive().sentAtNanos(),
                            0, false, null, 0, 0)), now));
            if (now == deadline) {
                assertEquals(Role.MASTER, m.role(), "the keep-alives are echoed: still master");
                List<Effect.ClientFailed> failed = all(out, Effect.ClientFailed.class);
                assertEquals(2, failed.size(), out::toString);
                for (Effect.ClientFailed x : failed) {
                    assertEquals(x.requestId() == 6, x.outcomeUnknown(), x::toString);
                    assertTrue(x.reason().contains("within 1000 ms"), x.reason());
                }
                break;
            }
            before.addAll(out);
        }
        assertTrue(all(before, Effect.ClientFailed.class).isEmpty(), before::toString);
    }

    // ---------------------------------------------------------------- a failing log disk, clients

    /** Replication.onLogPersisted: the rewrite's LogPersisted ends the log problem; client writes are accepted again. */
    @Test
    void onceTheRewriteOfAFailedLogIsDurableTheMasterAcceptsWritesAgain() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        Effect.PersistLog noop = all(won, Effect.PersistLog.class).get(0);
        handle(m, new Event.LogPersistFailed(noop.seq(), "No space left on device"), t + 3 * MS);
        List<Effect> retry = handle(m, new Event.Tick(), t + 3 * MS + TIMING.heartbeatNanos());
        Effect.PersistLog rw = all(retry, Effect.PersistLog.class).get(0);
        assertEquals(1, rw.truncateFrom(), retry::toString);
        List<Effect> refused = handle(m, new Event.ClientWrite(7, new byte[] {1}), t + 4 * MS + TIMING.heartbeatNanos());
        assertEquals(1, all(refused, Effect.ClientFailed.class).size(), "the rewrite is not durable yet: " + refused);
        handle(m, new Event.LogPersisted(rw.seq()), t + 5 * MS + TIMING.heartbeatNanos());
        List<Effect> w = handle(m, new Event.ClientWrite(8, new byte[] {2}), t + 6 * MS + TIMING.heartbeatNanos());
        assertTrue(all(w, Effect.ClientFailed.class).isEmpty(), w::toString);
        List<Effect.PersistLog> own = all(w, Effect.PersistLog.class);
        assertEquals(1, own.size(), w::toString);
        assertEquals(2, own.get(0).entries().get(0).index());
    }

    /** Replication.onClientWrite's refusal of an empty command, and onClientRead's refusal on a follower. */
    @Test
    void anEmptyWriteAndAReadToAFollowerAreRefused() {
        Node m = node("n0");
        long t = 5_000 * MS;
        elect(m, t);
        List<Effect> empty = handle(m, new Event.ClientWrite(9, new byte[0]), t + 3 * MS);
        assertEquals(List.of(new Effect.ClientFailed(9, false, null, "an empty command")),
                all(empty, Effect.ClientFailed.class));
        assertTrue(all(empty, Effect.PersistLog.class).isEmpty(), empty::toString);

        Node f = node("n1");
        handle(f, recv(masterKeepAlive("n0", 1)), 10 * MS);
        List<Effect> read = handle(f, new Event.ClientRead(5), 11 * MS);
        List<Effect.ClientFailed> refused = all(read, Effect.ClientFailed.class);
        assertEquals(1, refused.size(), read::toString);
        assertEquals(5, refused.get(0).requestId());
        assertEquals("n0", refused.get(0).master(), "names the master to ask");
        assertTrue(all(read, Effect.ReadReady.class).isEmpty(), read::toString);
    }

    /** Replication.recover: with replication off, a replicated log on disk is refused; an empty one is not. */
    @Test
    void aNodeWithoutReplicationRefusesARecoveredLogButNotAnEmptyOne() {
        NodeConfig off = new NodeConfig(new Peers("n1", PEERS), TIMING, false, false);
        Node empty = new Node(off, TermState.INITIAL, 1, null, new SplittableRandom(1), 0);
        empty.recoverLog(RaftLog.empty());
        assertEquals(0, empty.lastLogIndex());
        Node full = new Node(off, TermState.INITIAL, 1, null, new SplittableRandom(1), 0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> full.recoverLog(new RaftLog(0, 0, entries(1, 1, 1), 0)));
        assertTrue(e.getMessage().contains("replication is off"), e.getMessage());
    }

    // ---------------------------------------------------------------- snapshots

    /** Replication.onInstallSnapshot's bound: a chunk of a snapshot at exactly the commit index is not stored. */
    @Test
    void aChunkOfASnapshotAtExactlyTheCommitIndexIsAnsweredNotStored() {
        Node f = followerWith(5, 5);
        List<Effect> out = handle(f, recv(chunk(1, 21, 5, 1, 0, 10, false)), 20 * MS);
        assertTrue(all(out, Effect.StoreSnapshotChunk.class).isEmpty(), out::toString);
        assertEquals(List.of(new Message.InstallSnapshotAck("n1", 1, 1, 21, true, 5, 0)), snapshotAcks(out));
    }

    /** Replication.onSnapshotReceived's bound: a snapshot that the commit index reached meanwhile is not installed. */
    @Test
    void aSnapshotReceivedAtExactlyTheCommitIndexIsAnsweredNotInstalled() {
        Node f = followerWith(5, 2);
        List<Effect> stored = handle(f, recv(chunk(1, 21, 5, 1, 0, 10, true)), 20 * MS);
        assertEquals(1, all(stored, Effect.StoreSnapshotChunk.class).size(), stored::toString);
        // the master's commit reaches 5 while the world stores the snapshot
        handle(f, recv(new Message.Append("n0", 1, 9, 22, 5, 1, List.of(), 5)), 21 * MS);
        List<Effect> got = handle(f, new Event.SnapshotReceived(5, 1), 22 * MS);
        assertTrue(all(got, Effect.RestoreSnapshot.class).isEmpty() && all(got, Effect.CompactLog.class).isEmpty(),
                got::toString);
        assertEquals(0, f.snapshotsInstalled());
        assertEquals(List.of(new Message.InstallSnapshotAck("n1", 1, 1, 21, true, 5, 0)), snapshotAcks(got));
    }

    /** Replication.onSnapshotReceived's keep: a snapshot at the log's last entry (same term) discards nothing. */
    @Test
    void aSnapshotAtTheLogsLastEntryKeepsTheLog() {
        Node f = followerWith(5, 2);
        handle(f, recv(chunk(1, 21, 5, 1, 0, 10, true)), 20 * MS);
        List<Effect> got = handle(f, new Event.SnapshotReceived(5, 1), 21 * MS);
        assertEquals(List.of(new Effect.CompactLog(5, 1, false)), all(got, Effect.CompactLog.class), got::toString);
        assertEquals(1, f.snapshotsInstalled());
        assertEquals(5, f.lastLogIndex());
    }

    /**
     * SnapshotReceiver.failed and Replication.onSnapshotFailed's call: once storing the received snapshot
     * failed, the master's chunk at offset 0 is stored again; a failure of another snapshot, or of one
     * still being received, ends no transfer.
     */
    @Test
    void aFailedStoreOfAReceivedSnapshotStartsItsTransferAgain() {
        Node f = node("n1");
        List<Effect> first = handle(f, recv(chunk(2, 21, 10, 2, 0, 100, false)), 10 * MS);
        assertEquals(1, all(first, Effect.StoreSnapshotChunk.class).size(), first::toString);
        // the failure of a snapshot of that index before the last chunk is stored changes nothing
        handle(f, new Event.SnapshotFailed(10, "test: not this transfer"), 11 * MS);
        List<Effect> last = handle(f, recv(chunk(2, 22, 10, 2, 100, 50, true)), 12 * MS);
        assertEquals(1, all(last, Effect.StoreSnapshotChunk.class).size(), () -> "restarted: " + last);
        // the failure of another snapshot: the master's repeated request just waits for this one
        handle(f, new Event.SnapshotFailed(7, "test: another snapshot"), 13 * MS);
        List<Effect> waiting = handle(f, recv(chunk(2, 23, 10, 2, 0, 100, false)), 14 * MS);
        assertTrue(all(waiting, Effect.StoreSnapshotChunk.class).isEmpty() && snapshotAcks(waiting).isEmpty(),
                waiting::toString);
        // storing it failed: the chunk at offset 0 starts the transfer again
        handle(f, new Event.SnapshotFailed(10, "No space left on device"), 15 * MS);
        List<Effect> again = handle(f, recv(chunk(2, 24, 10, 2, 0, 100, false)), 16 * MS);
        assertEquals(List.of(new Effect.StoreSnapshotChunk("n0", 10, 2, 0, new byte[100], false)),
                all(again, Effect.StoreSnapshotChunk.class), again::toString);
        assertEquals(List.of(new Message.InstallSnapshotAck("n1", 2, 1, 24, false, 10, 100)), snapshotAcks(again));
    }

    /** Replication.onSnapshotTaken's bound: a second report of the same snapshot compacts and counts nothing. */
    @Test
    void aSecondReportOfTheSameSnapshotChangesNothing() {
        Node f = node("n1");
        f.snapshotPolicy(new SnapshotPolicy(4, Long.MAX_VALUE));
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, entries(1, 4, 1), 4)), 10 * MS);
        assertEquals(List.of(new Effect.TakeSnapshot(4, 1)), all(out, Effect.TakeSnapshot.class));
        List<Effect> taken = handle(f, new Event.SnapshotTaken(4, 1), 11 * MS);
        assertEquals(List.of(new Effect.CompactLog(4, 1, false)), all(taken, Effect.CompactLog.class));
        List<Effect> again = handle(f, new Event.SnapshotTaken(4, 1), 12 * MS);
        assertTrue(all(again, Effect.CompactLog.class).isEmpty(), again::toString);
        assertEquals(1, f.snapshotsTaken());
    }

    /**
     * Replication.onSnapshotTaken's count of the bytes applied after a snapshot taken behind the
     * applied index: with a byte threshold of 3, entries 4 and 5 (a byte each) applied before
     * snapshot 3 was reported count, and entry 6 makes the next one due.
     */
    @Test
    void theBytesAppliedAfterASnapshotCountTowardsTheNextOne() {
        Node f = node("n1");
        f.snapshotPolicy(new SnapshotPolicy(Long.MAX_VALUE, 3));
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, entries(1, 3, 1), 3)), 10 * MS);
        assertEquals(List.of(new Effect.TakeSnapshot(3, 1)), all(out, Effect.TakeSnapshot.class));
        handle(f, recv(new Message.Append("n0", 1, 9, 12, 3, 1, entries(4, 5, 1), 5)), 11 * MS);
        List<Effect> taken = handle(f, new Event.SnapshotTaken(3, 1), 12 * MS);
        assertEquals(List.of(new Effect.CompactLog(3, 1, false)), all(taken, Effect.CompactLog.class));
        assertTrue(all(taken, Effect.TakeSnapshot.class).isEmpty(), () -> "2 bytes since snapshot 3: " + taken);
        List<Effect> six = handle(f, recv(new Message.Append("n0", 1, 9, 13, 5, 1, entries(6, 6, 1), 6)), 13 * MS);
        assertEquals(List.of(new Effect.TakeSnapshot(6, 1)), all(six, Effect.TakeSnapshot.class), six::toString);
    }

    // ---------------------------------------------------------------- the term gate on replication messages

    /** TermGate.passAppend: an append of an older term is refused with this node's term (the stale master learns it). */
    @Test
    void anAppendOfAnOlderTermIsRefusedWithThisNodesTerm() {
        Node f = node("n1");
        handle(f, recv(masterKeepAlive("n2", 2)), 10 * MS);
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, entries(1, 1, 1), 0)), 20 * MS);
        assertEquals(List.of(new Message.AppendAck("n1", 2, 1, 11, false, 0, 0, 0)), acks(out));
        assertTrue(all(out, Effect.PersistLog.class).isEmpty(), out::toString);
        assertEquals(2, f.term());
    }

    /** TermGate.pass on an AppendAck of a newer term: the master adopts it and steps down. */
    @Test
    void anAppendAnswerFromANewerTermDeposesTheMaster() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        assertEquals(Role.MASTER, m.role());
        long term = m.term();
        handle(m, recv(new Message.AppendAck("n1", term + 1, 5, appendTo(won, "n1").requestId(), false, 0, 1, 0)),
                t + 3 * MS);
        assertEquals(term + 1, m.term());
        assertEquals(Role.FOLLOWER, m.role());
    }

    /** Makes n0 a candidate by hand (a pre-vote granted by n1); returns its vote request. */
    static Message.VoteRequest candidate(Node m, long now) {
        List<Effect> pre = handle(m, new Event.Tick(), now);
        Message.VoteRequest pv = (Message.VoteRequest) all(pre, Effect.Request.class).get(0).message();
        List<Effect> cand = handle(m, recv(new Message.VoteResponse("n1", pv.term(), 5, pv.requestId(), true, true, "", -1,
                MasterReport.NONE)), now + MS);
        assertEquals(Role.CANDIDATE, m.role(), cand::toString);
        return (Message.VoteRequest) all(cand, Effect.Request.class).get(0).message();
    }

    /** TermGate.passMaster: a candidate that gets an append or a snapshot chunk of its own term lost, and follows its sender. */
    @Test
    void aCandidateFollowsTheSenderOfAnAppendOrChunkOfItsOwnTerm() {
        long t = 5_000 * MS;
        Node a = node("n0");
        long term = candidate(a, t).term();
        List<Effect> out = handle(a, recv(new Message.Append("n2", term, 9, 31, 0, 0, List.of(), 0)), t + 2 * MS);
        assertEquals(Role.FOLLOWER, a.role(), out::toString);
        assertEquals(term, a.term());
        assertEquals("n2", a.master);
        assertEquals(List.of(new Message.AppendAck("n0", term, 1, 31, true, 0, 0, 0)), acks(out));

        Node b = node("n0");
        candidate(b, t);
        List<Effect> c = handle(b, recv(new Message.InstallSnapshot("n2", term, 9, 32, 10, 1, 0, new byte[10], false)),
                t + 2 * MS);
        assertEquals(Role.FOLLOWER, b.role(), c::toString);
        assertEquals("n2", b.master);
        assertEquals(1, all(c, Effect.StoreSnapshotChunk.class).size(), c::toString);
    }

    // ---------------------------------------------------------------- the master's pacing and batches

    /** Answers {@code a} from {@code peer} with success up to {@code match}. */
    static List<Effect> ack(Node m, String peer, Message.Append a, long match, long now) {
        return handle(m, recv(new Message.AppendAck(peer, m.term(), 5, a.requestId(), true, match, 0, 0)), now);
    }

    /**
     * Leadership.sendAppends' and onTime's pacing: a follower is told a new commit at once; once it
     * holds the commit (its answer says so) it gets no append, heartbeat after heartbeat (issue 12:
     * an idle master sends none; {@link IdleMasterTest} has the rest); a new entry goes at once, and
     * a second one waits while the first is in flight, then goes at its answer.
     */
    @Test
    void anIdleFollowerGetsNoAppendAndOneAtOnceForANewEntryOrCommit() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        Effect.PersistLog noop = all(won, Effect.PersistLog.class).get(0);
        handle(m, new Event.LogPersisted(noop.seq()), t + 2 * MS);
        // the no-op's answers commit it: each follower is told at once
        Message.Append c1 = appendTo(ack(m, "n1", appendTo(won, "n1"), 1, t + 3 * MS), "n1");
        List<Effect> fromN2 = ack(m, "n2", appendTo(won, "n2"), 1, t + 3 * MS);
        Message.Append c2 = appendTo(fromN2, "n2");
        assertNull(appendTo(fromN2, "n1"), "n1's append is in flight: " + fromN2);
        assertNotNull(c1);
        assertNotNull(c2, fromN2::toString);
        assertEquals(1, c1.leaderCommit());
        assertEquals(1, c2.leaderCommit());
        // answered: both hold the commit, so nothing goes, however many heartbeats pass
        List<Effect> idle = new ArrayList<>();
        idle.addAll(ack(m, "n1", c1, 1, t + 4 * MS));
        idle.addAll(ack(m, "n2", c2, 1, t + 4 * MS));
        long beat = t + 3 * MS + TIMING.heartbeatNanos();
        for (int i = 0; i < 5; i++) idle.addAll(handle(m, new Event.Tick(), beat + i * TIMING.heartbeatNanos()));
        assertTrue(appends(idle).isEmpty(), () -> "an idle master sent an append: " + idle);
        long now = beat + 5 * TIMING.heartbeatNanos();
        // a new entry goes at once to both
        List<Effect> w = handle(m, new Event.ClientWrite(5, new byte[] {1}), now);
        Message.Append e1 = appendTo(w, "n1");
        Message.Append e2 = appendTo(w, "n2");
        assertNotNull(e1, w::toString);
        assertNotNull(e2, w::toString);
        assertEquals(1, e1.prevIndex());
        assertEquals(List.of(2L), e1.entries().stream().map(LogEntry::index).toList());
        // while they are in flight, the next entry waits for their answers; then it goes at once
        List<Effect> w2 = handle(m, new Event.ClientWrite(6, new byte[] {2}), now + MS);
        assertTrue(appends(w2).isEmpty(), w2::toString);
        for (String p : List.of("n2", "n1")) {
            List<Effect> freed = ack(m, p, p.equals("n1") ? e1 : e2, 2, now + 2 * MS);
            Message.Append e = appendTo(freed, p);
            assertNotNull(e, freed::toString);
            assertEquals(2, e.prevIndex());
            assertEquals(List.of(3L), e.entries().stream().map(LogEntry::index).toList());
        }
    }

    /**
     * Leadership.sendAppends' batch limit: entries of 40 KiB together go in one append, two of 30 KiB in
     * two, and one entry bigger than the limit alone.
     */
    @Test
    void appendsCarryAtMostTheirPayloadLimitButAtLeastOneEntry() {
        int k = 1024;
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        handle(m, new Event.LogPersisted(all(won, Effect.PersistLog.class).get(0).seq()), t + 2 * MS);
        long now = t + 3 * MS;
        for (int[] sizes : new int[][] {{20 * k, 20 * k}, {30 * k, 30 * k}, {50 * k}}) {
            for (int s : sizes) handle(m, new Event.ClientWrite(s, new byte[s]), now);
        }
        // entries 2, 3 (20 KiB each), 4, 5 (30 KiB each) and 6 (50 KiB) wait behind the no-op's append to n1
        Message.Append a = appendTo(won, "n1");
        List<List<Long>> batches = new ArrayList<>();
        long match = 1;
        for (int i = 0; i < 4; i++) {
            now += MS;
            List<Effect> out = ack(m, "n1", a, match, now);
            a = appendTo(out, "n1");
            assertNotNull(a, out::toString);
            batches.add(a.entries().stream().map(LogEntry::index).toList());
            match = a.prevIndex() + a.entries().size();
        }
        assertEquals(List.of(List.of(2L, 3L), List.of(4L), List.of(5L), List.of(6L)), batches);
    }

    /**
     * Leadership.sendSnapshot's pacing: a chunk whose request failed is sent again a heartbeat after
     * it, not at once.
     */
    @Test
    void anUnansweredChunkIsResentAHeartbeatAfterItNotBefore() {
        Node m = node("n0");
        m.recoverLog(new RaftLog(10, 1, List.of(), 10));
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        assertEquals(Role.MASTER, m.role());
        Message.Append toN1 = appendTo(won, "n1");
        long sentAt = t + 3 * MS;
        List<Effect> refused = handle(m, recv(new Message.AppendAck("n1", m.term(), 5, toN1.requestId(), false, 0, 1, 0)),
                sentAt);
        List<Effect.SendSnapshot> sends = all(refused, Effect.SendSnapshot.class);
        assertEquals(1, sends.size(), refused::toString);
        Message.InstallSnapshot c = sends.get(0).chunk();
        List<Effect> early = new ArrayList<>();
        early.addAll(handle(m, new Event.RequestFailed("n1", c.requestId(), "connection refused"), sentAt + MS));
        early.addAll(handle(m, new Event.Tick(), sentAt + TIMING.heartbeatNanos() - 1));
        assertTrue(all(early, Effect.SendSnapshot.class).isEmpty(), () -> "resent before a heartbeat: " + early);
        List<Effect> late = handle(m, new Event.Tick(), sentAt + TIMING.heartbeatNanos());
        List<Effect.SendSnapshot> again = all(late, Effect.SendSnapshot.class);
        assertEquals(1, again.size(), late::toString);
        assertEquals("n1", again.get(0).to());
        assertEquals(0, again.get(0).chunk().offset());
        assertTrue(again.get(0).chunk().requestId() != c.requestId());
    }
}
