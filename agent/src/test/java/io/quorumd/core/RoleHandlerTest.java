package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The role handlers ({@link FollowerRole}, {@link CandidateRole}, {@link MasterRole}): each role
 * change makes a new handler, so what the old role held is gone, and each handles what reaches
 * it past the term gate.
 */
class RoleHandlerTest {
    @Test
    void aFollowerStartsAPreVoteRoundAtItsTimeoutAndAMasterHeardEndsIt() {
        OneNode a = new OneNode("n0", 0);
        a.at(2500, new Event.Tick());
        FollowerRole f = (FollowerRole) a.node.current();
        assertEquals(1, f.preVote.term, "a pre-vote round for the next term");
        a.receive(OneNode.masterKeepAlive("n1", 0, 1));
        assertSame(f, a.node.current(), "the master of its own term: still the same follower");
        assertNull(f.preVote, "the round ends when a master is heard");
        assertEquals("n1", a.node.view(a.now).master());
    }

    @Test
    void aPreVoteMajorityMakesACandidateWithItsOwnVoteOnly() {
        OneNode a = new OneNode("n0", 0);
        a.at(2500, new Event.Tick());
        a.receive(OneNode.grant("n1", 1, a.lastRequestId(true), true));
        CandidateRole c = (CandidateRole) a.node.current();
        assertEquals(Role.CANDIDATE, a.node.role());
        assertEquals(java.util.List.of("n0"), java.util.List.copyOf(c.votes.grants.keySet()));
        assertEquals(1, a.node.term());
    }

    @Test
    void aCandidateBecomesAFollowerOfTheMasterOfItsTerm() {
        OneNode a = new OneNode("n0", 0);
        a.at(2500, new Event.Tick());
        a.receive(OneNode.grant("n1", 1, a.lastRequestId(true), true));
        a.receive(OneNode.masterKeepAlive("n2", 1, 1));
        assertTrue(a.node.current() instanceof FollowerRole);
        assertEquals("n2", a.node.view(a.now).master());
        assertEquals(1, OneNode.only(a.out, Effect.RoleChanged.class).stream().filter(r -> r.role() == Role.FOLLOWER).count());
    }

    @Test
    void aNewCandidacyStartsWithoutTheVotesOfTheLastOne() {
        OneNode a = new OneNode("n0", 0);
        a.at(2500, new Event.Tick());
        a.receive(OneNode.grant("n1", 1, a.lastRequestId(true), true));
        RoleHandler first = a.node.current();
        // a hand-over in the same term asks it to campaign at once: a new candidacy, a new term
        a.receive(new Message.HandOver("n1", 1, 5, 77, "n0", null));
        assertNotSame(first, a.node.current());
        assertEquals(2, a.node.term());
        assertEquals(1, ((CandidateRole) a.node.current()).votes.grants.size(), "only its own vote");
    }

    @Test
    void aMasterCountsEchoesIntoItsLeaseAndLateGrantsIntoItsVotes() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        MasterRole m = (MasterRole) a.node.current();
        long sent = a.now;
        a.now += OneNode.MS;
        a.receive(OneNode.followerKeepAlive("n1", 1, "n0", sent));
        assertEquals(sent + NodeScenarioTest.TIMING.leaseNanos(), m.ms.lease.endNanos());
        a.receive(OneNode.grant("n2", 1, a.lastRequestId(false), false));
        assertTrue(m.ms.grants.containsKey("n2"), "a late grant is kept for the clearance");
    }

    @Test
    void aSecondMasterInTheSameTermStopsTheNodeWithTheValues() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> a.receive(OneNode.masterKeepAlive("n2", 1, 1)));
        assertTrue(e.getMessage().contains("two masters in term 1: this node n0 and n2"), e.getMessage());
    }

    @Test
    void leavingMastershipDropsTheMasterStateAndItsLease() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        assertTrue(a.node.mastership() != null);
        a.receive(OneNode.masterKeepAlive("n2", 2, 1));   // a master of a newer term
        assertTrue(a.node.current() instanceof FollowerRole);
        assertNull(a.node.mastership());
        assertEquals(-1, a.node.view(a.now).leaseEndNanos());
        assertFalse(a.node.view(a.now).cleared());
        assertEquals(Effect.Hook.ON_FOLLOWER, OneNode.only(a.out, Effect.RunHook.class).get(1).hook());
    }

    /** A master no majority ever echoed steps down exactly t after its campaign began, and says why. */
    @Test
    void aMasterWithoutEchoesStepsDownExactlyAnElectionTimeoutAfterItsCampaignBegan() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();   // campaign at 2500 ms
        a.now = 3500 * OneNode.MS - 1;
        a.handle(new Event.Tick());
        assertEquals(Role.MASTER, a.node.role(), "1 ns before t");
        a.now += 1;
        var fx = a.handle(new Event.Tick());
        assertEquals(Role.FOLLOWER, a.node.role(), "at t: " + fx);
        assertEquals(List.of(new Effect.RoleChanged(Role.FOLLOWER, 1, null, "no majority echoed this master within 1000 ms")),
                OneNode.only(fx, Effect.RoleChanged.class));
    }

    /** The watchdog is fed when the lease moves, not on every tick. */
    @Test
    void aMasterRenewsItsLeaseOncePerEchoThatMovesIt() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        long sent = a.now;   // echoed the same instant (a fast loopback): it counts
        var echoed = a.receive(OneNode.followerKeepAlive("n1", 1, "n0", sent));
        assertEquals(List.of(new Effect.LeaseRenewed(1, sent + NodeScenarioTest.TIMING.leaseNanos())),
                OneNode.only(echoed, Effect.LeaseRenewed.class));
        a.now += 50 * OneNode.MS;
        assertTrue(OneNode.only(a.handle(new Event.Tick()), Effect.LeaseRenewed.class).isEmpty(), "no new echo, no renewal");
        assertTrue(OneNode.only(a.receive(OneNode.followerKeepAlive("n1", 1, "n0", sent)), Effect.LeaseRenewed.class).isEmpty(),
                "the same echo again");
    }

    /** The proof n0 publishes in its next keep-alive, after {@code ms} more. */
    private static Proof proofPublished(OneNode a) {
        a.now += 100 * OneNode.MS;
        List<Effect.Publish> ka = OneNode.only(a.handle(new Event.Tick()), Effect.Publish.class);
        assertEquals(1, ka.size(), a.out.toString());
        return ka.get(0).keepAlive().proof();
    }

    /**
     * A master that steps down before starting its command offers a hand-over proof for its term
     * only if it was cleared in it: one still waiting out an older master proves nothing about it.
     */
    @Test
    void aMasterLeavingBeforeItsCommandOffersProofOnlyIfItWasCleared() {
        OneNode cleared = new OneNode("n0", 0);
        cleared.electMaster();
        assertTrue(cleared.node.view(cleared.now).cleared(), "no master known to the voters");
        cleared.receive(OneNode.followerKeepAlive("n1", 2, null, -1));   // a newer term: it steps down
        assertEquals(Role.FOLLOWER, cleared.node.role());
        assertEquals(new Proof(Proof.Kind.HANDOVER, "n0", 1, true), proofPublished(cleared));

        OneNode waiting = new OneNode("n0", 0);
        waiting.at(1500, new Event.Received(OneNode.followerKeepAlive("n1", 5, null, -1)));
        waiting.at(2500, new Event.Tick());
        waiting.receive(OneNode.grant("n1", 6, waiting.lastRequestId(true), true));
        waiting.receive(new Message.VoteResponse("n1", 6, 5, waiting.lastRequestId(false), false, true, "", -1,
                new MasterReport("n2", 4, true, 300 * OneNode.MS, false)));
        assertEquals(Role.MASTER, waiting.node.role());
        assertFalse(waiting.node.view(waiting.now).cleared(), "n2 of term 4 may still run its command");
        waiting.receive(OneNode.followerKeepAlive("n1", 7, null, -1));
        assertEquals(Role.FOLLOWER, waiting.node.role());
        assertNull(proofPublished(waiting), "never cleared: no proof");
    }

    /** A pre-vote round repeated for the same term keeps its request id, so a late grant to the first request still counts. */
    @Test
    void aRepeatedPreVoteRoundKeepsItsIdAndLateGrantsCount() {
        OneNode a = new OneNode("n0", 0);
        a.at(2500, new Event.Tick());
        long first = a.lastRequestId(true);
        a.out.clear();
        a.at(2800, new Event.Tick());   // nobody answered: the round is asked again
        assertEquals(first, a.lastRequestId(true), a.out.toString());
        a.receive(OneNode.grant("n1", 1, first, true));
        assertEquals(Role.CANDIDATE, a.node.role());
    }

    /**
     * A master heard ends the pre-vote grants still waiting for the disk, even when the disk then
     * takes longer than t (stickiness alone would have lapsed by then).
     */
    @Test
    void aMasterHeardDropsHeldPreVoteGrantsEvenIfTheDiskIsSlowerThanT() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        List<Effect> fx = new java.util.ArrayList<>(a.at(1500, new Event.Received(
                new Message.VoteRequest("n1", 1, 5, 1, false, 0, 0, 0, null))));
        fx.addAll(a.receive(new Message.VoteRequest("n1", 2, 5, 2, true, 0, 0, 0, null)));
        fx.addAll(a.at(1510, new Event.Received(OneNode.masterKeepAlive("n2", 1, 1))));
        List<Effect> after = new java.util.ArrayList<>();
        a.now = 2700 * OneNode.MS;
        for (Effect.Persist p : OneNode.only(fx, Effect.Persist.class)) after.addAll(a.handle(new Event.Persisted(p.seq())));
        assertNull(VoterTest.answer(after, 2), "a pre-vote grant made before the master was heard: " + after);
    }

    /**
     * A candidate asked by a hand-over to campaign while it still heard its master less than t ago,
     * whose election then fails, steps back to follower, says why, and waits an election timeout
     * before it tries again (not at once, not in a loop).
     */
    @Test
    void aHandedOverCandidateWhoseElectionFailsWhileStillStickyStepsBackAndSaysWhy() {
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 1, 1)));
        a.receive(new Message.HandOver("n1", 1, 5, 9, "n0", new Proof(Proof.Kind.HANDOVER, "n1", 1, true)));
        assertEquals(Role.CANDIDATE, a.node.role());
        a.now = a.node.electionDeadlineNanos;   // within t/2..t of the campaign, so less than t after n1 was heard
        var fx = a.handle(new Event.Tick());
        List<Effect.RoleChanged> rc = OneNode.only(fx, Effect.RoleChanged.class);
        assertEquals(1, rc.size(), fx.toString());
        assertEquals(Role.FOLLOWER, rc.get(0).role());
        assertEquals("election in term 2 failed: heard master n1 " + (a.now / OneNode.MS - 1500) + " ms ago", rc.get(0).reason());
        assertTrue(OneNode.only(fx, Effect.Request.class).isEmpty(), "no pre-vote while sticky: " + fx);
        long retry = a.node.electionDeadlineNanos - a.now;
        assertTrue(retry >= NodeScenarioTest.TIMING.electionTimeoutNanos(), "retried " + retry / OneNode.MS + " ms later");
    }
}
