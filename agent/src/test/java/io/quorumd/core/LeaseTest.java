package io.quorumd.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lease: from the newest send time a majority (the master included) echoed. */
class LeaseTest {
    static final long L = 900;

    @Test
    void noLeaseUntilAMajorityEchoed() {
        Lease l = new Lease();
        assertFalse(l.renew(100, 2, L), "the master alone is not a majority of 3");
        assertEquals(-1, l.endNanos());
        assertFalse(l.holds(100));
        assertFalse(l.expired(100_000), "a lease that never began does not expire");
    }

    @Test
    void aSingleNodeClusterHoldsItsOwnLease() {
        Lease l = new Lease();
        assertTrue(l.renew(100, 1, L));
        assertEquals(100 + L, l.endNanos());
    }

    @Test
    void theLeaseRunsFromTheKthNewestEcho() {
        Lease l = new Lease();
        l.echo("b", 50);
        l.echo("c", 80);
        l.echo("d", 20);
        l.echo("e", 10);
        // 5 nodes, majority 3: now=200 (self), 80, 50 -> from 50
        assertTrue(l.renew(200, 3, L));
        assertEquals(50 + L, l.endNanos());
        assertTrue(l.holds(50 + L - 1));
        assertTrue(l.expired(50 + L));
    }

    @Test
    void anEchoOnlyMovesForwardAndTheEndNeverShrinks() {
        Lease l = new Lease();
        l.echo("b", 80);
        l.echo("b", 40);   // a late duplicate of an older keep-alive
        assertTrue(l.renew(100, 2, L));
        assertEquals(80 + L, l.endNanos());
        Lease m = new Lease();
        m.echo("b", 80);
        m.renew(100, 2, L);
        assertFalse(m.renew(100, 2, L - 10), "a shorter computation does not shrink it");
        assertEquals(80 + L, m.endNanos());
        m.echo("b", 90);
        assertTrue(m.renew(120, 2, L));
        assertEquals(90 + L, m.endNanos());
    }

    @Test
    void describesEachFollowersNewestEchoAsAnAge() {
        Lease l = new Lease();
        l.echo("b", 1_000_000_000L);
        l.echo("b", 3_000_000_000L);
        assertEquals("b 1012 ms ago, c never", l.describeEchoes(4_012_000_000L, java.util.List.of("b", "c")));
        assertEquals("", l.describeEchoes(0, java.util.List.of()));
    }
}
