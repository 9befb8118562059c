package io.quorumd.core;

import org.junit.jupiter.api.Test;

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
}
