package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The peer table: who is live, who refused, what status shows. */
class PeerTableTest {
    static Message from(String id, long term) {
        return new Message.HandOverAck(id, term, 42, 1, true, "");
    }

    @Test
    void aPeerIsLiveForTAfterItWasHeardUnlessItRefused() {
        PeerTable t = new PeerTable(List.of("b", "c"), 1000);
        assertFalse(t.live("b", 0), "never heard");
        t.heard(from("b", 3), 100);
        assertTrue(t.live("b", 1099));
        assertFalse(t.live("b", 1100));
        assertTrue(t.refused("b"));
        assertFalse(t.live("b", 200));
        t.heard(from("b", 2), 300);
        assertTrue(t.live("b", 300), "a message means its agent answers again");
        assertFalse(t.refused("zz"), "not a peer");
        assertThrows(IllegalArgumentException.class, () -> t.heard(from("zz", 1), 0));
    }

    @Test
    void theViewShowsEachPeerSortedWithTheNewestTermHeard() {
        PeerTable t = new PeerTable(List.of("c", "b", "d"), 1000);
        t.heard(from("b", 5), 100);
        t.heard(from("b", 4), 200);
        t.heard(from("d", 1), 0);
        t.refused("c");
        assertEquals(List.of(new NodeView.PeerView("b", 300, 5, "up"), new NodeView.PeerView("c", -1, 0, "refused"),
                new NodeView.PeerView("d", 500, 1, "up")), t.view(500));
        assertEquals("silent", t.view(1500).get(2).state());
    }
}
