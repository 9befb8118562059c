package io.quorumd.core;

import io.quorumd.core.NodeScenarioTest.World;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Preemption ({@code timing.preempt_delay}) and the self-fence eligibility on the scenario world
 * of {@link NodeScenarioTest} (1 ms per frame, t = 1000 ms, heartbeat 100 ms): the
 * highest-priority node {@code n2} starts late, after a master was elected among the others, and
 * takes over by hand-over once it has been in contact with that master for the delay.
 */
class PreemptionTest {
    static final long MS = Timing.MS;
    static final long DELAY = 3000 * MS;

    /** A world whose {@code n2} (priority {@code p2}) joins at 3 s, once a master among n0 and n1 runs its command. */
    static World lateJoiner(long delay, int p0, int p1, int p2) {
        World w = new World(new int[] {p0, p1, p2}, delay);
        w.crash("n2");   // before anything ran: it joins later
        String m = w.settle();
        assertNotEquals("n2", m, w.dump());
        assertTrue(w.commandStartedAt.containsKey(m), w.dump());
        w.restart("n2");
        return w;
    }

    /** When {@code id} first asked a master to hand over (its trace), or -1. */
    static long firstAskMs(World w, String id) {
        for (String line : w.log) {
            if (line.contains(" " + id + "   preempt: priority")) return Long.parseLong(line.substring(0, line.indexOf(' ')));
        }
        return -1;
    }

    @Test
    void aHigherPriorityPeerTakesOverByHandOverAfterTheDelayNotBefore() {
        World w = lateJoiner(DELAY, 100, 100, 200);
        String old = w.master();
        long joined = w.now;
        w.runUntil(joined + DELAY - 10 * MS);
        assertEquals(old, w.master(), "preempted before the delay\n" + w.dump());
        assertEquals(-1, firstAskMs(w, "n2"), w.dump());
        w.runUntil(joined + DELAY + 1500 * MS);
        assertEquals("n2", w.master(), w.dump());
        long asked = firstAskMs(w, "n2");
        // contact starts at its first keep-alive of the master, within a heartbeat of joining
        assertTrue(asked * MS >= joined + DELAY && asked * MS <= joined + DELAY + 200 * MS, asked + " ms\n" + w.dump());
        // the step-down's path: the old master stopped its command and handed over with proof
        Clearance c = w.nodes.get("n2").view(w.now).clearedBy();
        assertEquals(Clearance.By.HANDOVER, c.by(), w.dump());
        assertEquals(old, c.oldMaster());
        assertTrue(w.commandStartedAt.containsKey("n2"), w.dump());
        assertEquals(1, w.commandStartedAt.size(), w.dump());   // the world asserts no overlap at every start
        assertTrue(w.dump().contains(old + " FOLLOWER term " + (c.oldTerm()) + ": preempted by n2 (priority 200 > 100)"), w.dump());
        // no flapping: the old master (lower priority) never asks back, nobody preempts n2
        long term = w.nodes.get("n2").term();
        w.runUntil(w.now + 3 * DELAY);
        assertEquals("n2", w.master(), w.dump());
        assertEquals(term, w.nodes.get("n2").term(), w.dump());
    }

    @Test
    void offByDefault() {
        World w = lateJoiner(NodeConfig.PREEMPT_OFF, 100, 100, 200);
        String old = w.master();
        long term = w.nodes.get(old).term();
        w.runUntil(w.now + 10_000 * MS);
        assertEquals(old, w.master(), w.dump());
        assertEquals(term, w.nodes.get(old).term(), w.dump());
        assertEquals(-1, firstAskMs(w, "n2"), w.dump());
    }

    @Test
    void anEqualOrLowerPriorityNeverPreempts() {
        for (int p2 : new int[] {100, 50}) {
            World w = lateJoiner(DELAY, 100, 100, p2);
            String old = w.master();
            long term = w.nodes.get(old).term();
            w.runUntil(w.now + 3 * DELAY);
            assertEquals(old, w.master(), "priority " + p2 + "\n" + w.dump());
            assertEquals(term, w.nodes.get(old).term(), w.dump());
            assertFalse(w.dump().contains("preempt:"), w.dump());
        }
    }

    @Test
    void aGapInTheContactStartsTheDelayAgain() {
        World w = lateJoiner(DELAY, 100, 100, 200);
        String old = w.master();
        long joined = w.now;
        // at half the delay the master's frames to n2 stop for 600 ms: more than t/2, less than t
        w.runUntil(joined + DELAY / 2);
        w.blocked.add(old + ">n2");
        long gapEnd = w.now + 600 * MS;
        w.runUntil(gapEnd);
        w.blocked.remove(old + ">n2");
        w.runUntil(gapEnd + DELAY - 10 * MS);
        assertEquals(old, w.master(), "the contact before the gap counted\n" + w.dump());
        assertEquals(-1, firstAskMs(w, "n2"), w.dump());
        w.runUntil(gapEnd + DELAY + 1500 * MS);
        assertEquals("n2", w.master(), w.dump());
        assertTrue(firstAskMs(w, "n2") * MS >= gapEnd + DELAY, w.dump());
    }

    @Test
    void aShortSilenceDoesNotBreakTheContact() {
        World w = lateJoiner(DELAY, 100, 100, 200);
        String old = w.master();
        long joined = w.now;
        w.runUntil(joined + DELAY / 2);
        w.blocked.add(old + ">n2");   // 300 ms: three lost keep-alives, under t/2
        w.runUntil(w.now + 300 * MS);
        w.blocked.remove(old + ">n2");
        w.runUntil(joined + DELAY + 1500 * MS);
        assertEquals("n2", w.master(), w.dump());
        assertTrue(firstAskMs(w, "n2") * MS <= joined + DELAY + 200 * MS, w.dump());
    }

    @Test
    void aMasterWithPreemptionOffRefuses() {
        World w = new World(new int[] {100, 100, 200}, DELAY);
        w.preemptDelay.put("n0", NodeConfig.PREEMPT_OFF);
        w.preemptDelay.put("n1", NodeConfig.PREEMPT_OFF);
        w.crash("n2");
        w.crash("n0");
        w.restart("n0");   // now without preemption
        w.crash("n1");
        w.restart("n1");
        String old = w.settle();
        w.restart("n2");
        w.runUntil(w.now + 3 * DELAY);
        assertEquals(old, w.master(), w.dump());
        assertTrue(w.dump().contains("refused preempt from n2: preemption is off in this master's config"), w.dump());
    }

    @Test
    void anAskerWhoseCommandGaveUpDoesNotAsk() {
        World w = lateJoiner(DELAY, 100, 100, 200);
        String old = w.master();
        w.deliver("n2", new Event.CommandGaveUp(0, "test: failed too often"));
        w.runUntil(w.now + 3 * DELAY);
        assertEquals(old, w.master(), w.dump());
        assertEquals(-1, firstAskMs(w, "n2"), w.dump());
    }

    @Test
    void aPreemptFromAnotherTermIsRefusedAndMovesNothing() {
        World w = lateJoiner(NodeConfig.PREEMPT_OFF, 100, 100, 200);
        String m = w.master();
        // the term gate answers before anything else is judged
        Node master = w.nodes.get(m);
        long term = master.term();
        for (long t : new long[] {term - 1, term + 1}) {
            int refusals = 0;
            for (Effect e : master.handle(new Event.Received(new Message.Preempt("n2", t, 5, 77)), w.now)) {
                if (e instanceof Effect.Respond r) {
                    Message.HandOverAck a = (Message.HandOverAck) r.message();
                    assertFalse(a.accepted(), a.toString());
                    assertEquals(77, a.requestId());
                    assertTrue(a.reason().startsWith("preempt from term " + t), a.reason());
                    refusals++;
                }
            }
            assertEquals(1, refusals, "the asker is answered, not left to time out");
            assertEquals(Role.MASTER, master.role());
            assertEquals(term, master.term());
        }
    }

    @Test
    void theMasterHandsOverOnlyToALivePeerThatEchoesIt() {
        World w = lateJoiner(DELAY, 100, 100, 200);
        String m = w.master();
        Node master = w.nodes.get(m);
        w.runUntil(w.now + 500 * MS);
        // n2 cut off from the master both ways for over t: it is not live as the master sees it
        w.blocked.add(m + ">n2");
        w.blocked.add("n2>" + m);
        w.runUntil(w.now + 1200 * MS);
        boolean refused = false;
        for (Effect e : master.handle(new Event.Received(new Message.Preempt("n2", master.term(), 5, 78)), w.now)) {
            if (e instanceof Effect.Respond r && r.message() instanceof Message.HandOverAck a) {
                assertFalse(a.accepted(), a.toString());
                refused = true;
            }
        }
        assertTrue(refused);
        assertEquals(Role.MASTER, master.role());
    }

    // ---------------------------------------------------------------- self_fence.mode: required

    @Test
    void aNodeWithoutItsRequiredFenceDeviceNeitherPreemptsNorCampaigns() {
        World w = lateJoiner(DELAY, 100, 100, 200);
        String old = w.master();
        w.deliver("n2", new Event.FenceEligibility(false, "test: /dev/watchdog is gone"));
        w.runUntil(w.now + 2 * DELAY);
        assertEquals(old, w.master(), w.dump());
        assertEquals(-1, firstAskMs(w, "n2"), w.dump());
        // the master crashes: the remaining pair can elect only the other node; n2 still votes for it
        w.crash(old);
        w.runUntil(w.now + 10_000 * MS);
        String next = w.master();
        assertNotNull(next, w.dump());
        assertNotEquals("n2", next, w.dump());
        // the device is back: n2 preempts again after the delay
        w.restart(old);
        w.deliver("n2", new Event.FenceEligibility(true, ""));
        w.runUntil(w.now + DELAY + 1500 * MS);
        assertEquals("n2", w.master(), w.dump());
    }

    /**
     * Simulator seed 1590: the device became unusable while the node's pre-vote round was under
     * way, and the grants that came after made it a candidate, then master. The round ends with it.
     */
    @Test
    void aPreVoteRoundUnderWayEndsWhenTheRequiredDeviceBecomesUnusable() {
        OneNode one = new OneNode("n0", 0);
        one.at(2500, new Event.Tick());
        long round = one.lastRequestId(true);
        one.handle(new Event.FenceEligibility(false, "test: watchdog gone"));
        List<Effect> fx = one.receive(OneNode.grant("n1", 1, round, true));
        assertEquals(Role.FOLLOWER, one.node.role(), fx.toString());
        assertEquals(0, one.node.term(), fx.toString());
        assertTrue(OneNode.only(fx, Effect.Persist.class).isEmpty(), fx.toString());
        // and no new round while it lasts; once usable again, it campaigns
        one.at(10_000, new Event.Tick());
        assertEquals(Role.FOLLOWER, one.node.role());
        one.handle(new Event.FenceEligibility(true, ""));
        one.at(12_000, new Event.Tick());
        one.receive(OneNode.grant("n1", 1, one.lastRequestId(true), true));
        assertEquals(Role.CANDIDATE, one.node.role(), one.out.toString());
    }

    /** Node.onFenceEligibility: a candidate whose required device becomes unusable gives up its election; a late grant makes no master. */
    @Test
    void aCandidateGivesUpItsElectionWhenTheRequiredDeviceBecomesUnusable() {
        OneNode one = new OneNode("n0", 0);
        one.at(2500, new Event.Tick());
        one.receive(OneNode.grant("n1", 1, one.lastRequestId(true), true));
        assertEquals(Role.CANDIDATE, one.node.role(), one.out.toString());
        long vote = one.lastRequestId(false);
        List<Effect> fx = one.handle(new Event.FenceEligibility(false, "test: watchdog gone"));
        assertEquals(Role.FOLLOWER, one.node.role(), fx.toString());
        assertEquals(1, one.node.term(), "its term stays");
        List<Effect> late = one.receive(OneNode.grant("n1", 1, vote, false));
        assertEquals(Role.FOLLOWER, one.node.role(), late.toString());
        assertTrue(OneNode.only(late, Effect.StartCommand.class).isEmpty(), late.toString());
    }

    @Test
    void aMasterThatLosesItsRequiredFenceDeviceHandsOver() {
        World w = new World(3);
        String old = w.settle();
        long t0 = w.now;
        w.deliver(old, new Event.FenceEligibility(false, "test: watchdog open failed"));
        w.runUntil(t0 + 500 * MS);
        String m = w.master();
        assertNotNull(m, w.dump());
        assertNotEquals(old, m, w.dump());
        assertEquals(Clearance.By.HANDOVER, w.nodes.get(m).view(w.now).clearedBy().by(), w.dump());
        // and it does not take mastership back while the device is unusable, not even by a hand-over
        w.askStepDown(m, old);
        w.runUntil(w.now + 5000 * MS);
        assertNotEquals(old, w.master(), w.dump());
        assertTrue(w.dump().contains("refused hand-over from " + m + ": self-fence device unusable"), w.dump());
    }

    // ---------------------------------------------------------------- configuration

    /**
     * NodeConfig's check of preempt_delay (0 is a delay, not "off"), and Preemption.gapNanos: the
     * contact survives a silence of two heartbeats or half the election timeout, whichever is
     * longer; with t = 3 heartbeats that is the two heartbeats.
     */
    @Test
    void aPreemptDelayOfZeroIsOnAndTheContactGapIsAtLeastTwoHeartbeats() {
        Timing tight = new Timing(100 * MS, 300 * MS, 0.01, 1000 * MS, 60_000 * MS);
        List<Peer> peers = List.of(new Peer("n0", 100), new Peer("n1", 100), new Peer("n2", 200));
        NodeConfig zero = new NodeConfig(new Peers("n2", peers), tight, false, 0);
        assertTrue(zero.preemptOn());
        assertThrows(IllegalArgumentException.class, () -> new NodeConfig(new Peers("n2", peers), tight, false, -2));
        Node n = new Node(zero, TermState.INITIAL, 1, null, new SplittableRandom(1), 0);
        assertEquals(200 * MS, n.preemption.gapNanos());
        Node wide = new Node(new NodeConfig(new Peers("n2", peers), Timing.defaults(), false, 0), TermState.INITIAL, 1, null,
                new SplittableRandom(1), 0);
        assertEquals(500 * MS, wide.preemption.gapNanos());
    }
}
