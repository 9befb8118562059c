package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The voters: the preference order (highest priority first, ties by id) decides who campaigns
 * first and whom a hand-over asks; the majority; 1 to 9 voters.
 */
class PeersTest {
    @Test
    void thePreferenceOrderIsByPriorityThenId() {
        Peers p = new Peers("b", List.of(new Peer("d", 5), new Peer("a", 1), new Peer("c", 5), new Peer("b", 9)));
        assertEquals(List.of("b", "c", "d", "a"), p.byPreference());
        assertEquals(0, p.rank("b"));
        assertEquals(3, p.rank("a"));
        assertEquals(5, p.priority("c"));
        assertEquals(List.of("a", "b", "c", "d"), p.ids(), "ids sorted");
        assertEquals(List.of("a", "c", "d"), p.others());
        assertEquals(3, p.majority());
        assertTrue(p.contains("d"));
        assertFalse(p.contains("e"));
        assertFalse(p.contains(null));
    }

    @Test
    void aClusterHasOneToNineVoters() {
        List<Peer> nine = new ArrayList<>();
        for (int i = 0; i < Peers.MAX_VOTERS; i++) nine.add(new Peer("n" + i, 100));
        assertEquals(5, new Peers("n0", nine).majority());
        assertEquals(1, new Peers("n0", List.of(new Peer("n0", 100))).majority());
        List<Peer> ten = new ArrayList<>(nine);
        ten.add(new Peer("n9", 100));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Peers("n0", ten));
        assertEquals("a cluster has 1 to 9 voters, got 10", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Peers("n0", List.of()));
    }
}
