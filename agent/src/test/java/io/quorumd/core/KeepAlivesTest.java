package io.quorumd.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keep-alives: every heartbeat; held while a write is pending and sent once it is on disk. */
class KeepAlivesTest {
    @Test
    void aKeepAliveWaitsForTheWriteOfItsTerm() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        var fx = a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 4, 1)));
        long seq = OneNode.only(fx, Effect.Persist.class).get(0).seq();
        assertTrue(OneNode.only(a.at(1600, new Event.Tick()), Effect.Publish.class).isEmpty(), "still unpersisted");
        var after = OneNode.only(a.at(1601, new Event.Persisted(seq)), Effect.Publish.class);
        assertEquals(1, after.size());
        Message.KeepAlive k = after.get(0).keepAlive();
        assertEquals(4, k.term());
        assertEquals("n1", k.master());
        assertEquals(1, k.echoNanos(), "echoes the master's send time");
        long hb = NodeScenarioTest.TIMING.heartbeatNanos();
        // the next keep-alive a heartbeat on, unless the probe of a master silent for two heartbeats comes first
        assertEquals(Math.min(a.now + hb, 1500 * OneNode.MS + 2 * hb + 1), a.node.nextDeadlineNanos());
    }

    @Test
    void aMasterAnnouncesItselfWithoutAnEcho() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        Message.KeepAlive k = OneNode.only(a.out, Effect.Publish.class).get(OneNode.only(a.out, Effect.Publish.class).size() - 1)
                .keepAlive();
        assertEquals("n0", k.master());
        assertEquals(-1, k.echoNanos());
        assertEquals(0, k.lastContactAgoNanos());
    }

    /** Status and metrics show how long ago each peer heard its master: a follower says so in its keep-alives. */
    @Test
    void aFollowerTellsHowLongAgoItHeardItsMaster() {
        OneNode a = new OneNode("n0", 0);
        var never = OneNode.only(a.at(1500, new Event.Tick()), Effect.Publish.class);
        assertEquals(-1, never.get(never.size() - 1).keepAlive().lastContactAgoNanos(), "never heard one");
        a.at(1600, new Event.Received(OneNode.masterKeepAlive("n1", 1, 1)));
        var later = OneNode.only(a.at(1730, new Event.Tick()), Effect.Publish.class);
        assertEquals(1, later.size(), a.out.toString());
        assertEquals(130 * OneNode.MS, later.get(0).keepAlive().lastContactAgoNanos());
    }
}
