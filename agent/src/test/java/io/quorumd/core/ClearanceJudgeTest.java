package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Clearance: which proof lets a new master run its command, and how long it waits without one. */
class ClearanceJudgeTest {
    static final Peers FIVE = new Peers("a", List.of(new Peer("a", 1), new Peer("b", 1), new Peer("c", 1),
            new Peer("d", 1), new Peer("e", 1)));
    static final Peers THREE = new Peers("a", List.of(new Peer("a", 1), new Peer("b", 1), new Peer("c", 1)));

    static Grant g(String master, long term, boolean cleared, long ago, boolean amnesic, long at) {
        return new Grant(new MasterReport(master, term, cleared, ago, amnesic), at);
    }

    static Map<String, Grant> grants(Object... idAndGrant) {
        Map<String, Grant> m = new LinkedHashMap<>();
        for (int i = 0; i < idAndGrant.length; i += 2) m.put((String) idAndGrant[i], (Grant) idAndGrant[i + 1]);
        return m;
    }

    @Test
    void nobodyKnewAMasterSoNoneCanLive() {
        ClearanceJudge.Verdict v = ClearanceJudge.judge(grants("a", g(null, 0, false, -1, false, 0),
                "b", g(null, 0, false, -1, false, 0), "c", g(null, 0, false, -1, false, 0)), Map.of(), null, FIVE, 1);
        assertEquals("no master known to the voters, and none could have been forgotten", v.clearedBy().reason());
        assertNull(v.newestMaster());
    }

    @Test
    void aHandOverProofForTheNewestMastersTermClears() {
        Map<String, Grant> gs = grants("a", g("e", 3, true, 10, false, 0), "b", g("d", 4, true, 10, false, 0),
                "c", g("e", 3, true, 10, false, 0));
        Map<String, Proof> proofs = new TreeMap<>();
        proofs.put("e", new Proof(Proof.Kind.HANDOVER, "e", 3, true));
        ClearanceJudge.Verdict v = ClearanceJudge.judge(gs, proofs, null, FIVE, 5);
        assertNull(v.clearedBy(), "d (term 4) is the newest master, and e's proof says nothing of it");
        assertEquals("d", v.newestMaster());
        assertEquals(4, v.newestMasterTerm());
        proofs.put("d", new Proof(Proof.Kind.HANDOVER, "d", 4, true));
        assertEquals("handover from d for term 4", ClearanceJudge.judge(gs, proofs, null, FIVE, 5).clearedBy().reason());
        assertEquals(new Clearance(Clearance.By.HANDOVER, "d", 4, "handover from d for term 4"),
                ClearanceJudge.judge(gs, proofs, null, FIVE, 5).clearedBy(), "the proof, its old master and term, structured");
        proofs.put("d", new Proof(Proof.Kind.HANDOVER, "d", 4, false));
        assertNull(ClearanceJudge.judge(gs, proofs, null, FIVE, 5).clearedBy(), "an uncleared master proves nothing older gone");
    }

    @Test
    void anAmnesicMajorityProvesNothingUnlessEveryNodeCertified() {
        Map<String, Grant> gs = grants("a", g(null, 0, false, 5, true, 0), "b", g(null, 0, false, 5, true, 0),
                "c", g(null, 0, false, -1, false, 0));
        assertNull(ClearanceJudge.judge(gs, Map.of(), null, THREE, 1).clearedBy());
        Map<String, Proof> proofs = new TreeMap<>();
        proofs.put("a", new Proof(Proof.Kind.CERTIFICATE, "a", 0, true));
        assertNull(ClearanceJudge.judge(gs, proofs, null, THREE, 1).clearedBy(), "b is amnesic and uncertified");
        proofs.put("b", new Proof(Proof.Kind.CERTIFICATE, "b", 0, true));
        assertEquals("no master known to the voters, and none could have been forgotten",
                ClearanceJudge.judge(gs, proofs, null, THREE, 1).clearedBy().reason());
    }

    @Test
    void aFenceCountsOnlyForTheNewestMasterSeenCleared() {
        Map<String, Grant> gs = grants("a", g("c", 2, false, 10, false, 0), "b", g("c", 2, true, 10, false, 0));
        Proof fence = new Proof(Proof.Kind.FENCE, "c", 2, false);
        assertEquals("fence of c (term 2) succeeded after its lease ended",
                ClearanceJudge.judge(gs, Map.of(), fence, THREE, 3).clearedBy().reason());
        assertNull(ClearanceJudge.judge(gs, Map.of(), new Proof(Proof.Kind.FENCE, "c", 1, false), THREE, 3).clearedBy());
        Map<String, Grant> notSeenCleared = grants("a", g("c", 2, false, 10, false, 0), "b", g("c", 2, false, 10, false, 0));
        assertNull(ClearanceJudge.judge(notSeenCleared, Map.of(), fence, THREE, 3).clearedBy());
    }

    @Test
    void theWaitIsTheLatestGrantPlusWhatWasLeftOfTheOldLeaseAndTheStop() {
        long t = 1000;
        List<Grant> gs = List.of(g("c", 2, true, 300, false, 100),
                g("c", 2, true, 900, false, 400), g(null, 0, false, -1, false, 5000));
        // 100 + (1000 - 300) + 50 + 5 = 855; 400 + (1000 - 900) + 50 + 5 = 555; the silent voter bounds nothing
        assertEquals(855, ClearanceJudge.oldLeaseEndPlus(gs, 0, t, 50, 5));
        assertEquals(2000, ClearanceJudge.oldLeaseEndPlus(gs, 2000, t, 50, 5), "never before now");
        // heard 20 longer ago than t: the lease is over, 30 of the stop remain
        assertEquals(100 + 30 + 5, ClearanceJudge.oldLeaseEndPlus(List.of(g("c", 2, true, 1020, false, 100)), 0, t, 50, 5));
        // heard so long ago that the lease and its stop are over: only the watchdog's slack
        assertEquals(100 + 5, ClearanceJudge.oldLeaseEndPlus(List.of(g("c", 2, true, 1500, false, 100)), 0, t, 50, 5));
    }
}
