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
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots and compaction, installing a snapshot on a follower, and a failing log disk, one node
 * at a time with every message and disk answer delivered by hand (issue 14).
 */
class SnapshotTest {

    static List<LogEntry> entries(long from, long to, long term) {
        List<LogEntry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) out.add(new LogEntry(i, term, new byte[] {(byte) i}));
        return out;
    }

    static List<Message.InstallSnapshotAck> snapshotAcks(List<Effect> effects) {
        List<Message.InstallSnapshotAck> out = new ArrayList<>();
        for (Effect.Respond r : all(effects, Effect.Respond.class))
            if (r.message() instanceof Message.InstallSnapshotAck a) out.add(a);
        return out;
    }

    static Message.InstallSnapshot chunk(long term, long requestId, long index, long lastTerm, long offset, int size,
                                         boolean done) {
        return new Message.InstallSnapshot("n0", term, 9, requestId, index, lastTerm, offset, new byte[size], done);
    }

    /** A follower n1 that holds entries 1..to of term 1, all durable, committed up to {@code commit}. */
    static Node followerWith(long to, long commit) {
        Node f = node("n1");
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, entries(1, to, 1), commit)), 10 * MS);
        for (Effect.PersistLog w : all(out, Effect.PersistLog.class)) handle(f, new Event.LogPersisted(w.seq()), 11 * MS);
        return f;
    }

    // ---------------------------------------------------------------- taking a snapshot

    @Test
    void aSnapshotIsAskedRightAfterTheApplyOfItsIndexAndCompactsOnceDurable() {
        Node f = node("n1");
        f.snapshotPolicy(new SnapshotPolicy(4, Long.MAX_VALUE));
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, entries(1, 5, 1), 5)), 10 * MS);
        List<Effect.TakeSnapshot> take = all(out, Effect.TakeSnapshot.class);
        assertEquals(List.of(new Effect.TakeSnapshot(5, 1)), take, out::toString);
        // effects in order: every Apply up to the index comes before the TakeSnapshot
        int at = out.indexOf(take.get(0));
        assertEquals(5, all(out.subList(0, at), Effect.Apply.class).size(), out::toString);
        // one at a time: more applied entries ask for none while it is pending
        List<Effect> more = handle(f, recv(new Message.Append("n0", 1, 9, 12, 5, 1, entries(6, 10, 1), 10)), 12 * MS);
        assertTrue(all(more, Effect.TakeSnapshot.class).isEmpty(), more::toString);
        List<Effect> taken = handle(f, new Event.SnapshotTaken(5, 1), 13 * MS);
        assertEquals(List.of(new Effect.CompactLog(5, 1, false)), all(taken, Effect.CompactLog.class));
        assertEquals(1, f.snapshotsTaken());
        assertEquals(10, f.lastLogIndex(), "compaction keeps the last index");
        // the next one is due 4 entries after the new base: already (10 - 5 >= 4), so it is asked at once
        assertEquals(List.of(new Effect.TakeSnapshot(10, 1)), all(taken, Effect.TakeSnapshot.class), taken::toString);
    }

    @Test
    void onlyCommittedEntriesGoIntoASnapshot() {
        Node f = followerWith(5, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> f.handle(new Event.SnapshotTaken(4, 1), 20 * MS));
        assertTrue(e.getMessage().contains("only committed entries"), e.getMessage());
    }

    @Test
    void aStaleSnapshotCompactsNothingAndAFailedOneIsRetriedLater() {
        Node f = node("n1");
        f.snapshotPolicy(new SnapshotPolicy(4, Long.MAX_VALUE));
        handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, entries(1, 4, 1), 4)), 10 * MS);
        List<Effect> failed = handle(f, new Event.SnapshotFailed(4, "disk full"), 11 * MS);
        assertTrue(all(failed, Effect.CompactLog.class).isEmpty(), failed::toString);
        // retried only after half the threshold more entries (2)
        List<Effect> one = handle(f, recv(new Message.Append("n0", 1, 9, 12, 4, 1, entries(5, 5, 1), 5)), 12 * MS);
        assertTrue(all(one, Effect.TakeSnapshot.class).isEmpty(), one::toString);
        List<Effect> two = handle(f, recv(new Message.Append("n0", 1, 9, 13, 5, 1, entries(6, 6, 1), 6)), 13 * MS);
        assertEquals(List.of(new Effect.TakeSnapshot(6, 1)), all(two, Effect.TakeSnapshot.class));
        handle(f, new Event.SnapshotTaken(6, 1), 14 * MS);
        List<Effect> old = handle(f, new Event.SnapshotTaken(4, 1), 15 * MS);
        assertTrue(all(old, Effect.CompactLog.class).isEmpty(), "at or below the base: " + old);
    }

    // ---------------------------------------------------------------- installing: the follower

    @Test
    void aFollowerStoresChunksInOrderAndAnswersInstalledOnlyOnceTheSnapshotIsDurable() {
        Node f = node("n1");
        List<Effect> c0 = handle(f, recv(chunk(2, 21, 10, 2, 0, 100, false)), 10 * MS);
        assertEquals(List.of(new Effect.StoreSnapshotChunk("n0", 10, 2, 0, new byte[100], false)),
                all(c0, Effect.StoreSnapshotChunk.class));
        assertEquals(List.of(new Message.InstallSnapshotAck("n1", 2, 1, 21, false, 10, 100)), snapshotAcks(c0));
        // out of order: nothing stored, the offset it wants named
        List<Effect> skip = handle(f, recv(chunk(2, 22, 10, 2, 300, 100, false)), 11 * MS);
        assertTrue(all(skip, Effect.StoreSnapshotChunk.class).isEmpty(), skip::toString);
        assertEquals(100, snapshotAcks(skip).get(0).nextOffset());
        // the last chunk: stored, but no answer until the world reports the snapshot durable
        List<Effect> last = handle(f, recv(chunk(2, 23, 10, 2, 100, 50, true)), 12 * MS);
        assertEquals(1, all(last, Effect.StoreSnapshotChunk.class).size());
        assertTrue(all(last, Effect.StoreSnapshotChunk.class).get(0).done());
        assertTrue(snapshotAcks(last).isEmpty(), () -> "acknowledged before durable: " + last);
        List<Effect> got = handle(f, new Event.SnapshotReceived(10, 2), 13 * MS);
        assertEquals(List.of(new Effect.RestoreSnapshot(10, 2)), all(got, Effect.RestoreSnapshot.class));
        assertEquals(List.of(new Effect.CompactLog(10, 2, true)), all(got, Effect.CompactLog.class), "its empty log goes");
        assertEquals(List.of(new Message.InstallSnapshotAck("n1", 2, 1, 23, true, 10, 0)), snapshotAcks(got));
        assertEquals(10, f.lastLogIndex());
        assertEquals(2, f.lastLogTerm());
        assertEquals(1, f.snapshotsInstalled());
        // appends continue after the snapshot, and apply from index + 1
        List<Effect> after = handle(f, recv(new Message.Append("n0", 2, 9, 24, 10, 2, entries(11, 11, 2), 11)), 14 * MS);
        assertEquals(11, all(after, Effect.Apply.class).get(0).entry().index());
    }

    @Test
    void aSnapshotKeepsTheEntriesAfterItWhenTheLogHoldsItsLastEntry() {
        Node f = followerWith(8, 2);
        handle(f, recv(chunk(1, 21, 5, 1, 0, 10, true)), 20 * MS);
        List<Effect> got = handle(f, new Event.SnapshotReceived(5, 1), 21 * MS);
        assertEquals(List.of(new Effect.CompactLog(5, 1, false)), all(got, Effect.CompactLog.class));
        assertEquals(8, f.lastLogIndex(), "entries 6..8 stay");
        assertTrue(all(got, Effect.Apply.class).isEmpty(), "the snapshot holds 1..5; 6..8 are not committed");
    }

    @Test
    void aStaleTermChunkIsRefusedWithTheFollowersTerm() {
        Node f = node("n1");
        handle(f, recv(new Message.Append("n0", 3, 9, 11, 0, 0, List.of(), 0)), 10 * MS);
        List<Effect> out = handle(f, recv(chunk(2, 21, 10, 2, 0, 100, false)), 11 * MS);
        assertTrue(all(out, Effect.StoreSnapshotChunk.class).isEmpty(), out::toString);
        Message.InstallSnapshotAck a = snapshotAcks(out).get(0);
        assertEquals(3, a.term());
        assertFalse(a.installed());
        assertEquals(3, f.term());
    }

    @Test
    void aNewerTermChunkIsAdoptedLikeAnAppend() {
        Node f = node("n1");
        List<Effect> out = handle(f, recv(chunk(4, 21, 10, 2, 0, 100, false)), 11 * MS);
        assertEquals(4, f.term());
        assertEquals(1, all(out, Effect.StoreSnapshotChunk.class).size(), out::toString);
    }

    @Test
    void aSnapshotAtOrBelowTheCommitIndexIsIgnoredAndAnsweredOnceDurable() {
        Node f = node("n1");
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, entries(1, 6, 1), 6)), 10 * MS);
        Effect.PersistLog w = all(out, Effect.PersistLog.class).get(0);
        List<Effect> old = handle(f, recv(chunk(1, 21, 4, 1, 0, 10, false)), 11 * MS);
        assertTrue(all(old, Effect.StoreSnapshotChunk.class).isEmpty(), old::toString);
        assertTrue(snapshotAcks(old).isEmpty(), () -> "entries 1..4 are not durable here yet: " + old);
        List<Effect> durable = handle(f, new Event.LogPersisted(w.seq()), 12 * MS);
        assertEquals(List.of(new Message.InstallSnapshotAck("n1", 1, 1, 21, true, 4, 0)), snapshotAcks(durable));
        // a snapshot received when the commit index has passed it changes nothing
        List<Effect> late = handle(f, new Event.SnapshotReceived(5, 1), 13 * MS);
        assertTrue(all(late, Effect.RestoreSnapshot.class).isEmpty() && all(late, Effect.CompactLog.class).isEmpty(),
                late::toString);
        assertEquals(6, f.lastLogIndex());
    }

    // ---------------------------------------------------------------- installing: the master

    @Test
    void theMasterSendsItsSnapshotToAFollowerWhoseNextIndexIsCompacted() {
        Node m = node("n0");
        m.recoverLog(new RaftLog(10, 1, List.of(), 10));
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        assertEquals(Role.MASTER, m.role());
        Message.Append toN1 = null;
        for (Message.Append a : appends(won)) if (a.prevIndex() == 10) toN1 = a;
        assertTrue(toN1 != null, won::toString);
        // n1's log is empty: it refuses, and its next index (1) is compacted
        List<Effect> refused = new ArrayList<>();
        for (Effect.Request r : all(won, Effect.Request.class))
            if (r.to().equals("n1") && r.message() instanceof Message.Append a)
                refused.addAll(handle(m, recv(new Message.AppendAck("n1", a.term(), 5, a.requestId(), false, 0, 1, 0)), t + 3 * MS));
        List<Effect.SendSnapshot> sends = all(refused, Effect.SendSnapshot.class);
        assertEquals(1, sends.size(), refused::toString);
        Message.InstallSnapshot c = sends.get(0).chunk();
        assertEquals("n1", sends.get(0).to());
        assertEquals(10, c.lastIndex());
        assertEquals(1, c.lastTerm());
        assertEquals(0, c.offset());
        // the answer names the next offset: the next chunk goes at once
        List<Effect> next = handle(m, recv(new Message.InstallSnapshotAck("n1", c.term(), 5, c.requestId(), false, 10, 4096)),
                t + 4 * MS);
        Message.InstallSnapshot c2 = all(next, Effect.SendSnapshot.class).get(0).chunk();
        assertEquals(4096, c2.offset());
        // installed: appends again, from 11
        List<Effect> done = handle(m, recv(new Message.InstallSnapshotAck("n1", c.term(), 5, c2.requestId(), true, 10, 0)),
                t + 5 * MS);
        assertTrue(all(done, Effect.SendSnapshot.class).isEmpty(), done::toString);
        Message.Append resumed = appends(done).get(0);
        assertEquals(10, resumed.prevIndex());
        assertEquals(11, resumed.entries().get(0).index());
    }

    @Test
    void aSnapshotAnswerFromANewerTermDeposesTheMaster() {
        Node m = node("n0");
        long t = 5_000 * MS;
        elect(m, t);
        assertEquals(Role.MASTER, m.role());
        long term = m.term();
        handle(m, recv(new Message.InstallSnapshotAck("n1", term + 1, 5, 99, false, 10, 0)), t + 3 * MS);
        assertEquals(term + 1, m.term());
        assertEquals(Role.FOLLOWER, m.role());
    }

    // ---------------------------------------------------------------- a failing log disk

    @Test
    void aFailedLogWriteIsNeverAcknowledgedAndTheLogIsRewrittenFromTheDurableIndex() {
        Node f = followerWith(2, 0);
        List<Effect> out = handle(f, recv(new Message.Append("n0", 1, 9, 12, 2, 1, entries(3, 4, 1), 0)), 20 * MS);
        Effect.PersistLog w = all(out, Effect.PersistLog.class).get(0);
        // a later write was issued before the failure came back: it must not count either
        List<Effect> out2 = handle(f, recv(new Message.Append("n0", 1, 9, 13, 4, 1, entries(5, 5, 1), 0)), 21 * MS);
        Effect.PersistLog w2 = all(out2, Effect.PersistLog.class).get(0);
        List<Effect> failed = handle(f, new Event.LogPersistFailed(w.seq(), "No space left on device"), 22 * MS);
        assertTrue(acks(failed).isEmpty(), failed::toString);
        List<Effect> later = handle(f, new Event.LogPersisted(w2.seq()), 23 * MS);
        assertTrue(acks(later).isEmpty(), () -> "acknowledged entries after a failed write: " + later);
        // while failing, new entries wait for the rewrite
        List<Effect> more = handle(f, recv(new Message.Append("n0", 1, 9, 14, 5, 1, entries(6, 6, 1), 0)), 24 * MS);
        assertTrue(all(more, Effect.PersistLog.class).isEmpty() && acks(more).isEmpty(), more::toString);
        // a heartbeat after the failure: one rewrite of everything after the durable index
        List<Effect> retry = handle(f, new Event.Tick(), 22 * MS + ReplicationTest.TIMING.heartbeatNanos());
        List<Effect.PersistLog> rw = all(retry, Effect.PersistLog.class);
        assertEquals(1, rw.size(), retry::toString);
        assertEquals(3, rw.get(0).truncateFrom());
        assertEquals(entries(3, 6, 1), rw.get(0).entries());
        List<Effect> ok = handle(f, new Event.LogPersisted(rw.get(0).seq()), 200 * MS);
        assertTrue(acks(ok).stream().anyMatch(a -> a.success() && a.matchIndex() == 6), ok::toString);
    }

    @Test
    void aMasterWhoseLogFailsRefusesClientWrites() {
        Node m = node("n0");
        long t = 5_000 * MS;
        List<Effect> won = elect(m, t);
        Effect.PersistLog noop = all(won, Effect.PersistLog.class).get(0);
        handle(m, new Event.LogPersistFailed(noop.seq(), "No space left on device"), t + 3 * MS);
        List<Effect> w = handle(m, new Event.ClientWrite(7, new byte[] {1}), t + 4 * MS);
        Effect.ClientFailed f = all(w, Effect.ClientFailed.class).get(0);
        assertEquals(7, f.requestId());
        assertFalse(f.outcomeUnknown(), "refused before anything was appended");
        assertTrue(f.reason().contains("log"), f.reason());
        assertTrue(all(w, Effect.PersistLog.class).isEmpty(), w::toString);
    }

    @Test
    void chunksCopyTheirBytes() {
        byte[] b = {1, 2, 3};
        Message.InstallSnapshot c = new Message.InstallSnapshot("n0", 1, 1, 1, 1, 1, 0, b, true);
        b[0] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, c.data());
        assertEquals(c, c.withData(new byte[] {1, 2, 3}, true));
    }

    /** InstallSnapshot's and StoreSnapshotChunk's equals and hashCode compare the bytes (records compare arrays by identity). */
    @Test
    void chunksAndTheirStoresCompareTheirBytes() {
        Message.InstallSnapshot c = new Message.InstallSnapshot("n0", 1, 1, 1, 1, 1, 0, new byte[] {1, 2, 3}, true);
        Message.InstallSnapshot same = new Message.InstallSnapshot("n0", 1, 1, 1, 1, 1, 0, new byte[] {1, 2, 3}, true);
        Message.InstallSnapshot other = new Message.InstallSnapshot("n0", 1, 1, 1, 1, 1, 0, new byte[] {1, 2, 4}, true);
        assertEquals(c, same);
        assertEquals(c.hashCode(), same.hashCode());
        assertNotEquals(c, other);
        assertNotEquals(c.hashCode(), other.hashCode());
        Effect.StoreSnapshotChunk s = new Effect.StoreSnapshotChunk("n0", 1, 1, 0, new byte[] {1, 2, 3}, true);
        Effect.StoreSnapshotChunk sSame = new Effect.StoreSnapshotChunk("n0", 1, 1, 0, new byte[] {1, 2, 3}, true);
        Effect.StoreSnapshotChunk sOther = new Effect.StoreSnapshotChunk("n0", 1, 1, 0, new byte[] {1, 2, 4}, true);
        assertEquals(s, sSame);
        assertEquals(s.hashCode(), sSame.hashCode());
        assertNotEquals(s, sOther);
        assertNotEquals(s.hashCode(), sOther.hashCode());
    }
}
