package io.quorumd.core;

import org.junit.jupiter.api.Test;

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
}
