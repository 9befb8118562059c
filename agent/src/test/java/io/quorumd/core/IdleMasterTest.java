package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.quorumd.core.ReplicationTest.MS;
import static io.quorumd.core.ReplicationTest.TIMING;
import static io.quorumd.core.ReplicationTest.all;
import static io.quorumd.core.ReplicationTest.appends;
import static io.quorumd.core.ReplicationTest.elect;
import static io.quorumd.core.ReplicationTest.handle;
import static io.quorumd.core.ReplicationTest.node;
import static io.quorumd.core.ReplicationTest.recv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12, a lean agent at rest: a master whose followers hold every entry and its commit index
 * sends them no appends, heartbeat after heartbeat, while its lease still comes from the echoes of
 * its keep-alives; a write, a read, a follower left behind by a failed append and a follower whose
 * agent restarted each still get their append at once (a failed one's retry a heartbeat after it).
 * Master n0 of {n0, n1, n2}; every message and disk answer delivered by hand.
 */
class IdleMasterTest {
    private static final long HB = TIMING.heartbeatNanos();
    /** the agent's request time-out (max(2 heartbeats, t/2, 200 ms)), after which an unanswered append fails */
    private static final long REQUEST_TIMEOUT = Math.max(Math.max(2 * HB, TIMING.electionTimeoutNanos() / 2), 200 * MS);

    /** n0 as master, with n1 (agent run 5) and n2 (agent run 6) echoing its keep-alives and answering its appends. */
    private static final class Cluster {
        final Node m = node("n0");
        long now = 5_000 * MS;
        long bootN1 = 5;
        long bootN2 = 6;
        final List<Effect> out = new ArrayList<>();
        /** the last index each follower's log holds (as far as the master sent it) */
        long lastN1;
        long lastN2;
        int leaseRenewals;

        List<Effect> handle(Event e) {
            List<Effect> fx = ReplicationTest.handle(m, e, now);
            out.addAll(fx);
            for (Effect.PersistLog w : all(fx, Effect.PersistLog.class)) out.addAll(ReplicationTest.handle(m, new Event.LogPersisted(w.seq()), now));
            leaseRenewals += all(fx, Effect.LeaseRenewed.class).size();
            return fx;
        }

        /** Time passes by {@code d}; every keep-alive the master published meanwhile is echoed by both followers. */
        List<Effect> advance(long d) {
            now += d;
            int from = out.size();
            handle(new Event.Tick());
            for (int i = from; i < out.size(); i++) {
                if (out.get(i) instanceof Effect.Publish p && p.keepAlive().from().equals("n0")) {
                    long sent = p.keepAlive().sentAtNanos();
                    handle(recv(new Message.KeepAlive("n1", m.term(), bootN1, now, "n0", sent, 0, false, null, 0, lastN1)));
                    handle(recv(new Message.KeepAlive("n2", m.term(), bootN2, now, "n0", sent, 0, false, null, 0, lastN2)));
                }
            }
            return new ArrayList<>(out.subList(from, out.size()));
        }

        /** The follower's successful answer to {@code a}: it holds everything up to the append's last entry. */
        List<Effect> ack(String to, Message.Append a) {
            long match = a.prevIndex() + a.entries().size();
            if (to.equals("n1")) lastN1 = Math.max(lastN1, match);
            else lastN2 = Math.max(lastN2, match);
            return handle(recv(new Message.AppendAck(to, m.term(), to.equals("n1") ? bootN1 : bootN2, a.requestId(), true,
                    match, 0, 0)));
        }

        /** Answers every append in {@code fx}, then those the answers bring, until none is left. */
        void ackAll(List<Effect> fx) {
            List<Effect.Request> pending = new ArrayList<>(all(fx, Effect.Request.class));
            while (!pending.isEmpty()) {
                Effect.Request r = pending.remove(0);
                if (r.message() instanceof Message.Append a) pending.addAll(all(ack(r.to(), a), Effect.Request.class));
            }
        }
    }

    private static List<Message.Append> appendsTo(String to, List<Effect> fx) {
        List<Message.Append> r = new ArrayList<>();
        for (Effect.Request q : all(fx, Effect.Request.class))
            if (q.to().equals(to) && q.message() instanceof Message.Append a) r.add(a);
        return r;
    }

    /** Elected, the no-op committed, both followers answered every append and hold the commit index. */
    private static Cluster settled() {
        Cluster c = new Cluster();
        List<Effect> won = elect(c.m, c.now);
        assertEquals(Role.MASTER, c.m.role());
        c.out.addAll(won);
        c.now += 3 * MS;
        for (Effect.PersistLog w : all(won, Effect.PersistLog.class)) c.handle(new Event.LogPersisted(w.seq()));
        c.ackAll(won);
        // the no-op's commit index goes to each follower with one more append, answered
        assertEquals(1, c.m.replication.log.commitIndex());
        return c;
    }

    private static void assertIdle(Cluster c, int heartbeats) {
        int renewed = c.leaseRenewals;
        List<Effect> quiet = new ArrayList<>();
        for (int i = 0; i < heartbeats; i++) quiet.addAll(c.advance(HB));
        assertEquals(Role.MASTER, c.m.role());
        assertTrue(appends(quiet).isEmpty(), () -> "an idle master sent appends: " + appends(quiet));
        assertTrue(all(quiet, Effect.SendSnapshot.class).isEmpty(), quiet::toString);
        assertTrue(all(quiet, Effect.Publish.class).size() >= heartbeats, "a keep-alive every heartbeat");
        assertTrue(c.leaseRenewals - renewed >= heartbeats - 1, "the lease is renewed by the echoes alone");
    }

    @Test
    void anIdleMasterSendsNoAppendsOnceItsFollowersHoldEveryEntryAndTheCommitIndex() {
        Cluster c = settled();
        assertIdle(c, 200);   // 20 s of heartbeats, twice the lease many times over
    }

    @Test
    void aWriteGoesOutAtOnceAndItsCommitFollowsThenTheMasterIsIdleAgain() {
        Cluster c = settled();
        assertIdle(c, 20);
        List<Effect> w = c.handle(new Event.ClientWrite(77, new byte[] {1, 2, 3}));
        Message.Append toN1 = appendsTo("n1", w).get(0);
        Message.Append toN2 = appendsTo("n2", w).get(0);
        assertEquals(1, toN1.entries().size());
        assertEquals(2, toN1.entries().get(0).index());
        assertEquals(1, toN2.entries().size());
        // n1's answer commits the write (the master's own disk has it): n1 learns the commit index at once
        List<Effect> committed = c.ack("n1", toN1);
        assertEquals(77, all(c.out, Effect.Apply.class).stream().filter(a -> a.entry().index() == 2).findFirst()
                .orElseThrow().requestId());
        Message.Append commitN1 = appendsTo("n1", committed).get(0);
        assertTrue(commitN1.entries().isEmpty());
        assertEquals(2, commitN1.leaderCommit());
        assertTrue(appendsTo("n2", committed).isEmpty(), "n2's append is still in flight");
        List<Effect> n2 = c.ack("n2", toN2);
        Message.Append commitN2 = appendsTo("n2", n2).get(0);
        assertEquals(2, commitN2.leaderCommit(), "n2's append carried commit 1: the new one follows at once");
        c.ack("n1", commitN1);
        c.ack("n2", commitN2);
        assertIdle(c, 50);
    }

    @Test
    void aReadStartsItsRoundAtOnceAndIsServedThenTheMasterIsIdleAgain() {
        Cluster c = settled();
        assertIdle(c, 20);
        List<Effect> read = c.handle(new Event.ClientRead(88));
        assertTrue(all(read, Effect.ReadReady.class).isEmpty(), "served without a round");
        Message.Append round = appendsTo("n1", read).get(0);
        assertEquals(1, appendsTo("n2", read).size(), "a round to every follower");
        assertTrue(round.entries().isEmpty());
        List<Effect> confirmed = c.ack("n1", round);
        assertEquals(88, all(confirmed, Effect.ReadReady.class).get(0).requestId(), confirmed::toString);
        c.ack("n2", appendsTo("n2", read).get(0));
        assertIdle(c, 50);
    }

    @Test
    void aFollowerLeftBehindByAFailedAppendGetsItsRetryAHeartbeatLaterAndOnlyThen() {
        Cluster c = settled();
        assertIdle(c, 5);
        List<Effect> w = c.handle(new Event.ClientWrite(77, new byte[] {1}));
        Message.Append toN2 = appendsTo("n2", w).get(0);
        c.ackAll(List.of(new Effect.Request("n1", appendsTo("n1", w).get(0))));
        long sent = c.now;
        c.now += 10 * MS;
        List<Effect> failed = c.handle(new Event.RequestFailed("n2", toN2.requestId(), "an error reply"));
        assertTrue(appendsTo("n2", failed).isEmpty(), "a quick failure is not retried at once: " + failed);
        assertTrue(c.m.nextDeadlineNanos() <= sent + HB, "woken for the retry");
        c.now = sent + HB - MS;
        assertTrue(appendsTo("n2", c.handle(new Event.Tick())).isEmpty(), "not before a heartbeat since the failed one");
        c.now = sent + HB;
        Message.Append retry = appendsTo("n2", c.handle(new Event.Tick())).get(0);
        assertEquals(toN2.prevIndex(), retry.prevIndex());
        assertEquals(toN2.entries(), retry.entries(), "the entry n2 lacks");
        assertEquals(2, retry.leaderCommit());
        c.ackAll(List.of(new Effect.Request("n2", retry)));
        assertIdle(c, 30);
    }

    @Test
    void aLostCommitOnlyAppendIsRetriedSoTheFollowerStillLearnsTheCommitIndex() {
        Cluster c = settled();
        assertIdle(c, 5);
        List<Effect> w = c.handle(new Event.ClientWrite(77, new byte[] {1}));
        Message.Append commitN1 = appendsTo("n1", c.ack("n1", appendsTo("n1", w).get(0))).get(0);
        Message.Append commitN2 = appendsTo("n2", c.ack("n2", appendsTo("n2", w).get(0))).get(0);
        assertEquals(2, commitN1.leaderCommit());
        c.ack("n2", commitN2);
        // n1 holds every entry, but the append that tells it the commit index times out
        c.now += REQUEST_TIMEOUT;
        List<Effect> failed = c.handle(new Event.RequestFailed("n1", commitN1.requestId(), "no reply"));
        List<Message.Append> again = appendsTo("n1", failed);
        assertEquals(1, again.size(), "a heartbeat has passed since the lost one: retried at once: " + failed);
        assertTrue(again.get(0).entries().isEmpty());
        assertEquals(2, again.get(0).leaderCommit());
        c.ack("n1", again.get(0));
        assertIdle(c, 30);
    }

    @Test
    void aFollowerWhoseAgentRestartedLearnsTheCommitIndexAgain() {
        Cluster c = settled();
        assertIdle(c, 10);
        c.bootN1 = 55;   // n1's agent restarted: its commit index is back at its snapshot base
        List<Effect> heard = c.advance(HB);
        List<Message.Append> toN1 = appendsTo("n1", heard);
        assertEquals(1, toN1.size(), heard::toString);
        assertTrue(toN1.get(0).entries().isEmpty(), "its log is durable: only the commit index");
        assertEquals(1, toN1.get(0).leaderCommit());
        assertTrue(appendsTo("n2", heard).isEmpty());
        c.ack("n1", toN1.get(0));
        assertIdle(c, 30);
        assertFalse(c.m.replication.leadership == null);
    }
}
