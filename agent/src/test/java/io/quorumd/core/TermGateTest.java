package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The term gate: newer terms adopted (persisted first) unless sticky, older ones answered or dropped. */
class TermGateTest {
    @Test
    void aNewerMastersKeepAliveIsAdoptedAndPersistedBeforeTheEcho() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        var fx = a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 4, 1)));
        assertEquals(4, a.node.term());
        assertEquals(1, OneNode.only(fx, Effect.Persist.class).size());
        assertTrue(OneNode.only(fx, Effect.Publish.class).isEmpty(), "no keep-alive announces an unpersisted term");
    }

    @Test
    void aStaleKeepAliveGoesNoFurther() {
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 3, 1)));
        a.at(1510, new Event.Received(OneNode.masterKeepAlive("n2", 2, 1)));
        assertEquals("n1", a.node.view(a.now).master(), "a master of an older term is not followed");
        assertEquals(3, a.node.term());
    }

    @Test
    void aStickyFollowerIgnoresANewerTermFromANonMaster() {
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 3, 1)));
        var fx = a.at(1510, new Event.Received(OneNode.followerKeepAlive("n2", 7, null, -1)));
        assertEquals(3, a.node.term());
        assertTrue(fx.stream().anyMatch(e -> e instanceof Effect.Trace t && t.text().contains("ignored term 7 from n2")), fx.toString());
    }

    @Test
    void anOlderTermsVoteRequestIsRefusedWithOurTerm() {
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 3, 1)));
        var fx = a.at(3000, new Event.Received(new Message.VoteRequest("n2", 2, 5, 9, false, 0, 0, 0, null)));
        Message.VoteResponse r = (Message.VoteResponse) OneNode.only(fx, Effect.Respond.class).get(0).message();
        assertFalse(r.granted());
        assertEquals(3, r.term());
        assertEquals("stale term 2 < 3", r.reason());
    }

    @Test
    void aHandOverFromAnotherTermIsRefused() {
        OneNode a = new OneNode("n0", 0);
        var fx = a.at(1500, new Event.Received(new Message.HandOver("n1", 2, 5, 9, "n0", null)));
        Message.HandOverAck ack = (Message.HandOverAck) OneNode.only(fx, Effect.Respond.class).get(0).message();
        assertFalse(ack.accepted());
        assertEquals("hand-over from term 2, this node is in term 0", ack.reason());
        assertEquals(Role.FOLLOWER, a.node.role());
    }

    @Test
    void termsNoNodeMayHoldAreNamed() {
        assertEquals("term -1", TermGate.badTerm(OneNode.masterKeepAlive("n1", -1, 0)));
        assertNull(TermGate.badTerm(OneNode.masterKeepAlive("n1", 3, 0)));
        assertEquals("proof.masterTerm " + (TermState.MAX_TERM + 1), TermGate.badTerm(
                new Message.HandOver("n1", 1, 5, 1, "n0", new Proof(Proof.Kind.HANDOVER, "n1", TermState.MAX_TERM + 1, true))));
    }

    /** n0 campaigns in term 1 (its pre-vote granted by n1); returns the real vote request's id. */
    private static long candidateInTerm1(OneNode a) {
        a.at(2500, new Event.Tick());
        a.receive(OneNode.grant("n1", 1, a.lastRequestId(true), true));
        assertEquals(Role.CANDIDATE, a.node.role(), a.out.toString());
        return a.lastRequestId(false);
    }

    /** A grant of an earlier candidacy is no vote in this one: only the answers of the candidate's own term count. */
    @Test
    void aCandidateCountsNoGrantOfAnOlderTerm() {
        OneNode a = new OneNode("n0", 0);
        long term1 = candidateInTerm1(a);
        a.receive(new Message.HandOver("n2", 1, 5, 77, "n0", null));   // asked to campaign at once: term 2
        assertEquals(2, a.node.term());
        a.receive(OneNode.grant("n1", 1, term1, false));
        assertEquals(Role.CANDIDATE, a.node.role(), "n1's vote of term 1 made a master of term 2: " + a.out);
        a.receive(OneNode.grant("n1", 2, a.lastRequestId(false), false));
        assertEquals(Role.MASTER, a.node.role(), "n1's vote of term 2 does");
    }

    /** A refusal from a newer term makes the candidate adopt it and step back, without campaigning again at once. */
    @Test
    void aCandidateRefusedFromANewerTermAdoptsItAndWaitsAnElectionTimeout() {
        OneNode a = new OneNode("n0", 0);
        long id = candidateInTerm1(a);
        var fx = a.receive(new Message.VoteResponse("n1", 5, 5, id, false, false, "already voted for n2 in term 5", -1,
                MasterReport.NONE));
        assertEquals(5, a.node.term());
        assertEquals(Role.FOLLOWER, a.node.role());
        assertTrue(OneNode.only(fx, Effect.Request.class).isEmpty(), "no pre-vote at once: " + fx);
        var before = a.at(2500 + 999, new Event.Tick());
        assertTrue(OneNode.only(before, Effect.Request.class).isEmpty(), "none within t: " + before);
    }

    /** A hand-over addressed to another node is neither answered nor acted on. */
    @Test
    void aHandOverForAnotherNodeIsIgnored() {
        OneNode a = new OneNode("n0", 0);
        var fx = a.at(1500, new Event.Received(new Message.HandOver("n1", 0, 5, 9, "n2", null)));
        assertTrue(OneNode.only(fx, Effect.Respond.class).isEmpty(), fx.toString());
        assertEquals(Role.FOLLOWER, a.node.role());
        assertEquals(0, a.node.term());
    }

    /**
     * A pre-vote refusal from a newer term, answering this round, is adopted at once: the next
     * round asks for the term after it (asking for term 1 again would only be refused as stale).
     * A refusal answering another round is not.
     */
    @Test
    void aPreVoteRefusalFromANewerTermIsAdoptedAndTheNextRoundAsksPastIt() {
        OneNode a = new OneNode("n0", 0);
        a.at(2500, new Event.Tick());
        long round = a.lastRequestId(true);
        a.receive(new Message.VoteResponse("n1", 7, 5, round + 100, true, false, "stale term 1 <= 7", -1, MasterReport.NONE));
        assertEquals(0, a.node.term(), "an answer to another round");
        a.receive(new Message.VoteResponse("n1", 5, 5, round, true, false, "stale term 1 <= 5", -1, MasterReport.NONE));
        assertEquals(5, a.node.term());
        a.out.clear();
        a.at(2800, new Event.Tick());
        List<Effect.Request> next = OneNode.only(a.out, Effect.Request.class);
        assertEquals(2, next.size(), a.out.toString());
        assertEquals(6, next.get(0).message().term(), "the next round: " + next);
    }

    /** Each field that no node may hold is named, and a message holding one is dropped with that name in the log. */
    @Test
    void everyTermFieldIsCheckedAndTheMessageDroppedWithItsName() {
        long tooBig = TermState.MAX_TERM + 1;
        assertEquals("lastLogTerm -1", TermGate.badTerm(new Message.KeepAlive("n1", 3, 5, 0, "n1", -1, 0, true, null, -1, 0)));
        assertEquals("proof.masterTerm " + tooBig, TermGate.badTerm(new Message.KeepAlive("n1", 3, 5, 0, null, -1, 0, false,
                new Proof(Proof.Kind.HANDOVER, "n1", tooBig, true), 0, 0)));
        assertEquals("lastLogTerm " + tooBig, TermGate.badTerm(new Message.VoteRequest("n1", 3, 5, 1, false, 0, tooBig, 0, null)));
        assertEquals("proof.masterTerm " + tooBig, TermGate.badTerm(new Message.VoteRequest("n1", 3, 5, 1, false, 0, 0, 0,
                new Proof(Proof.Kind.HANDOVER, "n2", tooBig, true))));
        assertEquals("report.masterTerm -1", TermGate.badTerm(new Message.VoteResponse("n1", 3, 5, 1, false, true, "", -1,
                new MasterReport("n2", -1, false, 0, false))));
        assertNull(TermGate.badTerm(new Message.VoteResponse("n1", 3, 5, 1, false, false, "no", -1, null)), "no report");
        assertNull(TermGate.badTerm(new Message.HandOverAck("n1", 3, 5, 1, true, "")));

        OneNode a = new OneNode("n0", 0);
        var fx = a.at(1500, new Event.Received(new Message.KeepAlive("n1", 3, 5, 0, "n1", -1, 0, true, null, -1, 0)));
        assertEquals(0, a.node.term(), "dropped: " + fx);
        assertNull(a.node.view(a.now).master());
        assertTrue(fx.contains(new Effect.Trace("dropped KeepAlive from n1: lastLogTerm -1 beyond the largest term "
                + TermState.MAX_TERM)), fx.toString());
    }

    /**
     * A proof offered on a keep-alive clears a waiting master at once, but only a node's proof
     * about its own command counts: n1 cannot vouch for n2's.
     */
    @Test
    void aKeepAliveCarryingTheOldMastersOwnProofClearsAWaitingMasterAtOnce() {
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.Received(OneNode.followerKeepAlive("n1", 5, null, -1)));
        a.at(2500, new Event.Tick());
        a.receive(OneNode.grant("n1", 6, a.lastRequestId(true), true));
        a.receive(new Message.VoteResponse("n1", 6, 5, a.lastRequestId(false), false, true, "", -1,
                new MasterReport("n2", 4, true, 300 * OneNode.MS, false)));
        assertEquals(Role.MASTER, a.node.role());
        assertFalse(a.node.view(a.now).cleared(), "n2 of term 4 may still run its command");
        Proof n2Gone = new Proof(Proof.Kind.HANDOVER, "n2", 4, true);
        a.receive(new Message.KeepAlive("n1", 6, 5, a.now, "n0", -1, 0, false, n2Gone, 0, 0));
        assertFalse(a.node.view(a.now).cleared(), "n1 relaying a proof about n2");
        a.receive(new Message.KeepAlive("n2", 6, 5, a.now, "n0", -1, 0, false, n2Gone, 0, 0));
        assertTrue(a.node.view(a.now).cleared(), "n2's own proof");
        assertEquals(new Clearance(Clearance.By.HANDOVER, "n2", 4, "handover from n2 for term 4"), a.node.view(a.now).clearedBy());
    }
}
