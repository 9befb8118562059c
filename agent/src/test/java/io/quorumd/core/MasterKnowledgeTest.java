package io.quorumd.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a node knows of the newest master: stickiness, amnesia after a restart, the report to a candidate. */
class MasterKnowledgeTest {
    static final long MS = Timing.MS;
    static final long T = 1000 * MS;

    @Test
    void aFreshNodeIsStickyAndAmnesicForItsFirstT() {
        MasterKnowledge k = new MasterKnowledge(T, 0, 3 * T);
        assertTrue(k.sticky(T - 1));
        assertFalse(k.sticky(T));
        assertEquals("restarted 500 ms ago: it may have forgotten a live master", k.stickyReason(500 * MS));
        MasterReport r = k.report(2 * T);
        assertTrue(r.amnesic());
        assertEquals(2 * T, r.heardAgoNanos(), "it may have heard a master just before it restarted");
        assertFalse(k.report(3 * T).amnesic(), "any forgotten lease and its stop are over");
        assertEquals(MasterReport.NONE, k.report(3 * T));
    }

    /** The monotonic clock does not start at 0: "since boot" is measured from the boot's own reading. */
    @Test
    void theAmnesicReportCountsFromTheBootsClockReading() {
        long boot = 7 * T;
        MasterKnowledge k = new MasterKnowledge(T, boot, 3 * T);
        assertTrue(k.sticky(boot + T - 1));
        assertFalse(k.sticky(boot + T));
        MasterReport r = k.report(boot + 2 * T);
        assertTrue(r.amnesic());
        assertEquals(2 * T, r.heardAgoNanos(), "since its boot");
        assertFalse(k.report(boot + 3 * T).amnesic());
    }

    @Test
    void hearingAMasterMakesItStickyForT() {
        MasterKnowledge k = new MasterKnowledge(T, 0, 3 * T);
        k.heard("b", 4, false, 2 * T);
        assertTrue(k.sticky(3 * T - 1));
        assertFalse(k.sticky(3 * T));
        assertEquals("heard master b 300 ms ago", k.stickyReason(2 * T + 300 * MS));
        assertEquals(new MasterReport("b", 4, false, 300 * MS, true), k.report(2 * T + 300 * MS));
        k.yielded = true;
        assertFalse(k.sticky(2 * T + 1), "a resigned master ends stickiness early");
        k.heard("b", 4, false, 2 * T + 10);
        assertFalse(k.yielded, "a live master again");
    }

    @Test
    void aClearedMasterEndsAmnesiaAndANewTermForgetsTheClearance() {
        MasterKnowledge k = new MasterKnowledge(T, 0, 3 * T);
        k.heard("b", 4, true, 100 * MS);
        k.heard("b", 4, false, 200 * MS);
        assertTrue(k.masterCleared, "cleared stays within a term");
        assertFalse(k.amnesic(200 * MS), "a cleared master proves every older command gone");
        k.heard("c", 5, false, 300 * MS);
        assertFalse(k.masterCleared);
        assertTrue(k.amnesic(300 * MS));
    }

    @Test
    void itsOwnMastershipCountsAsHeardUntilItEnded() {
        MasterKnowledge k = new MasterKnowledge(T, 0, 0);
        k.elected("a", 7, 5 * T);
        assertEquals("a", k.master);
        k.ownMastershipEndedNanos = 9 * T;
        assertEquals(new MasterReport("a", 7, false, T, false), k.report(10 * T));
    }

    @Test
    void onlyTheKnownMastersHandOverForItsTermLetsASuccessorThrough() {
        MasterKnowledge k = new MasterKnowledge(T, 0, 0);
        k.heard("b", 4, true, 10);
        assertTrue(k.handedOverBy(new Proof(Proof.Kind.HANDOVER, "b", 4, true)));
        assertFalse(k.handedOverBy(new Proof(Proof.Kind.HANDOVER, "b", 3, true)));
        assertFalse(k.handedOverBy(new Proof(Proof.Kind.HANDOVER, "c", 4, true)));
        assertFalse(k.handedOverBy(new Proof(Proof.Kind.CERTIFICATE, "b", 4, true)));
        assertFalse(k.handedOverBy(null));
    }
}
