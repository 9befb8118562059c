package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The hand-over plan: whom to ask next. */
class HandOverPlanTest {
    static final Peers PEERS = new Peers("a", List.of(new Peer("a", 9), new Peer("b", 1), new Peer("c", 5),
            new Peer("d", 5)));

    @Test
    void theNamedPeerFirstThenTheMostPreferredLiveOnes() {
        HandOverPlan p = new HandOverPlan("b", false, "step-down requested");
        assertEquals("b", p.successor(PEERS, id -> false), "the named peer is asked even if silent");
        p.asked("b", 11);
        assertEquals(11, p.requestId);
        assertEquals("c", p.successor(PEERS, id -> true));
        p.asked("c", 12);
        assertEquals("d", p.successor(PEERS, id -> true));
        p.asked("d", 13);
        assertNull(p.successor(PEERS, id -> true), "everyone tried; never itself");
    }

    @Test
    void silentPeersAreSkippedAndAnUnknownNameIgnored() {
        HandOverPlan p = new HandOverPlan("zz", true, "agent shutting down");
        Set<String> live = Set.of("d");
        assertEquals("d", p.successor(PEERS, live::contains));
        HandOverPlan self = new HandOverPlan("a", false, "step-down requested");
        assertEquals("c", self.successor(PEERS, id -> true), "a node does not hand over to itself");
    }
}
