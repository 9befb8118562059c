package io.quorumd.core;

/**
 * What this node knows of the newest master, kept across terms and roles: whom it heard last and
 * when, whether that master was cleared, and how much a restart may have made it forget. It
 * decides a follower's stickiness and the {@link MasterReport} a voter gives a candidate. Pure:
 * the caller passes the time.
 */
final class MasterKnowledge {
    private final long electionTimeoutNanos;
    private final long bootNanos;
    private final long amnesicUntilNanos;
    /** Local time of the newest master keep-alive heard (or of this node's own election). */
    long lastLiveNanos = -1;
    /** When this node itself last stopped being master. */
    long ownMastershipEndedNanos = -1;
    /** Stickiness ended early (resign, certificate, refused connection). */
    boolean yielded;
    /** The newest master heard (id), and its term. */
    String master;
    long masterTerm;
    /** That master said it was cleared to run its command in that term. */
    boolean masterCleared;

    /**
     * @param amnesicNanos how long after boot a forgotten lease and its stop may still run
     */
    MasterKnowledge(long electionTimeoutNanos, long bootNanos, long amnesicNanos) {
        this.electionTimeoutNanos = electionTimeoutNanos;
        this.bootNanos = bootNanos;
        this.amnesicUntilNanos = bootNanos + amnesicNanos;
    }

    /** A keep-alive of master {@code from} in {@code term} arrived at {@code now}. */
    void heard(String from, long term, boolean cleared, long now) {
        lastLiveNanos = now;
        yielded = false;
        if (!from.equals(master) || masterTerm != term) {
            master = from;
            masterTerm = term;
            masterCleared = false;
        }
        masterCleared |= cleared;
    }

    /** This node became master of {@code term}; the votes it asked for at {@code campaignStartedNanos} count as heard. */
    void elected(String self, long term, long campaignStartedNanos) {
        master = self;
        masterTerm = term;
        masterCleared = false;
        lastLiveNanos = campaignStartedNanos;
        yielded = false;
    }

    /** Sticky as a follower or candidate: booted less than t ago, or heard a live master less than t ago. */
    boolean sticky(long now) {
        if (now - bootNanos < electionTimeoutNanos) return true;   // it may have forgotten a live master
        return !yielded && lastLiveNanos >= 0 && now - lastLiveNanos < electionTimeoutNanos;
    }

    /** Why a follower or candidate is sticky (see {@link #sticky}). */
    String stickyReason(long now) {
        if (now - bootNanos < electionTimeoutNanos && (lastLiveNanos < 0 || yielded))
            return "restarted " + (now - bootNanos) / Timing.MS + " ms ago: it may have forgotten a live master";
        return "heard master " + master + " " + (now - lastLiveNanos) / Timing.MS + " ms ago";
    }

    /**
     * A restarted node may have forgotten a master it heard before; it stops being amnesic once
     * it has heard a master that was cleared to run its command since it booted (that clearance
     * proves every older command gone), or once any forgotten lease and its stop are surely over.
     */
    boolean amnesic(long now) {
        return now < amnesicUntilNanos && !(master != null && masterCleared);
    }

    /** What this node tells a candidate about the newest master it knows. */
    MasterReport report(long now) {
        long heard = Math.max(lastLiveNanos, ownMastershipEndedNanos);
        long ago = heard >= 0 ? now - heard : -1;
        boolean amnesic = amnesic(now);
        if (amnesic) {
            // it may have heard a master just before it restarted
            long sinceBoot = now - bootNanos;
            ago = ago < 0 ? sinceBoot : Math.min(ago, sinceBoot);
        }
        return new MasterReport(master, masterTerm, masterCleared, ago, amnesic);
    }

    /** A hand-over from the very master this node knows, for its term. */
    boolean handedOverBy(Proof p) {
        return p != null && p.kind() == Proof.Kind.HANDOVER && p.node().equals(master) && p.masterTerm() == masterTerm;
    }
}
