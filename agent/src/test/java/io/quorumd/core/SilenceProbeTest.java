package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When a follower probes its silent master: past two heartbeats of silence, at most once a heartbeat. */
class SilenceProbeTest {
    static final long HB = 100;

    @Test
    void notBeforeTwoHeartbeatsOfSilenceNorForOneNeverHeard() {
        SilenceProbe p = new SilenceProbe(HB);
        assertFalse(p.due(-1, 1000), "never heard: nothing to probe");
        assertFalse(p.due(2 * HB, 1000), "two heartbeats exactly");
        assertTrue(p.due(2 * HB + 1, 1000));
    }

    @Test
    void theProbeIsADeadlineOfItsOwnTwoHeartbeatsAfterTheMastersLastFrame() {
        SilenceProbe p = new SilenceProbe(HB);
        assertEquals(Long.MAX_VALUE, p.nextDueNanos(-1), "never heard: no probe");
        assertEquals(1000 + 2 * HB + 1, p.nextDueNanos(1000));
        assertTrue(p.due(2 * HB + 1, 1000 + 2 * HB + 1));
        assertEquals(1000 + 3 * HB + 1, p.nextDueNanos(1000), "then once a heartbeat");
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 1, 1)));
        a.at(1600, new Event.Tick());
        assertTrue(OneNode.only(a.at(1700, new Event.Tick()), Effect.Probe.class).isEmpty(), "two heartbeats exactly");
        long due = 1500 * OneNode.MS + 2 * NodeScenarioTest.TIMING.heartbeatNanos() + 1;
        assertEquals(due, a.node.nextDeadlineNanos(), "the follower wakes for the probe, before its next keep-alive at 1800");
        a.now = due;
        assertEquals(List.of(new Effect.Probe("n1")), OneNode.only(a.handle(new Event.Tick()), Effect.Probe.class));
    }

    @Test
    void atMostOnceAHeartbeat() {
        SilenceProbe p = new SilenceProbe(HB);
        assertTrue(p.due(500, 1000));
        assertFalse(p.due(550, 1050));
        assertFalse(p.due(599, 1099));
        assertTrue(p.due(600, 1100));
    }

    @Test
    void aFollowerProbesItsSilentMasterAndARefusalEndsStickinessEarly() {
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 1, 1)));
        assertTrue(OneNode.only(a.at(1700, new Event.Tick()), Effect.Probe.class).isEmpty(), "2 heartbeats: not yet");
        assertEquals(List.of(new Effect.Probe("n1")), OneNode.only(a.at(1701, new Event.Tick()), Effect.Probe.class));
        assertTrue(OneNode.only(a.at(1750, new Event.Tick()), Effect.Probe.class).isEmpty(), "once a heartbeat");
        assertTrue(a.node.isSticky(a.now));
        a.at(1760, new Event.PeerRefused("n1"));
        assertFalse(a.node.isSticky(a.now), "a refusal from the master's host ends stickiness");
        assertTrue(OneNode.only(a.at(1900, new Event.Tick()), Effect.Probe.class).isEmpty(), "no master followed: no probe");
    }

    @Test
    void aMasterAndACandidateProbeNobody() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        a.now += 5000 * OneNode.MS;
        assertTrue(OneNode.only(a.out, Effect.Probe.class).isEmpty());
    }
}
