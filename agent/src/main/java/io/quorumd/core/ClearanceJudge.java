package io.quorumd.core;

import java.util.Collection;
import java.util.Map;

/**
 * May a new master run its command now? Pure: judged from the grants that elected it (what each
 * voter knew of the newest master), the proofs offered to it, and a fence result; or else, when
 * the old lease plus {@code stop_timeout} has surely passed.
 *
 * <p>A non-amnesic majority knows the newest master that ever had a lease (quorum intersection).
 * Failing that, if every node answered and each amnesic one certified its own old command gone,
 * any forgotten master is among them and covered too (fresh or whole-cluster restart). Silence
 * and refused connections are never proof.
 */
final class ClearanceJudge {
    private ClearanceJudge() {}

    /**
     * The judgement: {@code clearedBy} says which proof clears the master (null: none yet); the
     * newest master the voters know ({@code null} when none) is the one to wait out or fence.
     */
    record Verdict(Clearance clearedBy, String newestMaster, long newestMasterTerm) {}

    static Verdict judge(Map<String, Grant> grants, Map<String, Proof> proofs, Proof fenceProof, Peers peers,
                         long term) {
        int nonAmnesic = 0;
        boolean everyNodeAccounted = grants.size() == peers.size();
        String x = null;
        long xTerm = 0;
        for (Map.Entry<String, Grant> g : grants.entrySet()) {
            MasterReport r = g.getValue().report();
            if (!r.amnesic()) nonAmnesic++;
            else if (!certified(proofs, g.getKey())) everyNodeAccounted = false;
            if (r.master() != null && r.masterTerm() > xTerm) {
                x = r.master();
                xTerm = r.masterTerm();
            }
        }
        if (nonAmnesic >= peers.majority() || everyNodeAccounted) {
            Clearance proof = proofFor(proofs, peers.self(), term, x, xTerm);
            if (proof != null) return new Verdict(proof, x, xTerm);
        }
        if (fenceCovers(grants, fenceProof, x, xTerm) && nonAmnesic >= peers.majority()
                && fenceProof.masterTerm() == xTerm)
            return new Verdict(new Clearance(Clearance.By.FENCE, x, xTerm,
                    "fence of " + x + " (term " + xTerm + ") succeeded after its lease ended"), x, xTerm);
        return new Verdict(null, x, xTerm);
    }

    private static boolean certified(Map<String, Proof> proofs, String id) {
        Proof p = proofs.get(id);
        return p != null && p.kind() == Proof.Kind.CERTIFICATE && p.cleared();
    }

    /** Which proof clears this master given that {@code x} was the newest master (term {@code xTerm}); null if none. */
    private static Clearance proofFor(Map<String, Proof> proofs, String self, long term, String x, long xTerm) {
        if (x == null) return new Clearance(Clearance.By.NO_MASTER, null, 0,
                "no master known to the voters, and none could have been forgotten");
        if (x.equals(self) && xTerm == term) return new Clearance(Clearance.By.SELF, x, xTerm, "this node is that master");
        Proof p = proofs.get(x);
        if (p != null && p.masterTerm() == xTerm && p.cleared()
                && (p.kind() == Proof.Kind.HANDOVER || p.kind() == Proof.Kind.SELF || p.kind() == Proof.Kind.CERTIFICATE)) {
            return new Clearance(Clearance.By.of(p.kind()), x, xTerm,
                    p.kind().name().toLowerCase() + " from " + x + " for term " + xTerm);
        }
        // A certificate only speaks for commands started before that boot: one recorded for an older
        // term says nothing about a command the node started after it came back.
        return null;
    }

    /** A fence of {@code x} counts when it was the newest master and a voter saw it cleared in that term. */
    private static boolean fenceCovers(Map<String, Grant> grants, Proof fenceProof, String x, long xTerm) {
        if (x == null || fenceProof == null || !fenceProof.node().equals(x) || fenceProof.masterTerm() != xTerm)
            return false;
        for (Grant g : grants.values()) {
            MasterReport r = g.report();
            if (x.equals(r.master()) && r.masterTerm() == xTerm && r.cleared()) return true;
        }
        return false;
    }

    /**
     * The latest, over the grants, of: grant received + (t - heard ago) + {@code afterNanos} +
     * {@code slackNanos}, and never before {@code now}. The old lease ended at most (t - ago)/(1+ρ)
     * of real time after the grant (before it, if negative); on this clock that is at most t - ago.
     * A voter that never heard a master echoed no lease and bounds nothing.
     */
    static long oldLeaseEndPlus(Collection<Grant> grants, long now, long electionTimeoutNanos, long afterNanos,
                                long slackNanos) {
        long until = now;
        for (Grant g : grants) {
            long ago = g.report().heardAgoNanos();
            if (ago < 0) continue;
            until = Math.max(until, g.receivedNanos() + Math.max(0, electionTimeoutNanos - ago + afterNanos) + slackNanos);
        }
        return until;
    }
}
