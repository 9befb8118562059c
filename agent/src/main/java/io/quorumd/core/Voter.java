package io.quorumd.core;

import io.quorumd.core.Message.VoteRequest;
import io.quorumd.core.Message.VoteResponse;

/**
 * The voter, which every role is: it answers pre-votes and real votes (each refusal says why),
 * and judges which held answers and requests still hold once their write is on disk.
 */
final class Voter {
    private final Node n;

    Voter(Node n) {
        this.n = n;
    }

    /** Past the term gate (a real vote's term is ours; a pre-vote's is a question). */
    void onVoteRequest(VoteRequest v, long now) {
        String c = v.from();
        if (v.preVote()) {
            String why = voteRefusal(v, now);
            boolean grant = why == null;
            n.trace("%s pre-vote for %s in term %d%s", grant ? "granted" : "refused", c, v.term(), grant ? "" : ": " + why);
            if (grant) yieldToPreferred(c, v.term(), now);
            n.send(new Effect.Respond(c, new VoteResponse(n.self, grant ? v.term() : n.state.term(),
                    n.bootId, v.requestId(), true, grant, grant ? "" : why, -1, MasterReport.NONE)));
            return;
        }
        String why = voteRefusal(v, now);
        if (why != null) {
            refuseVote(v, why);
            return;
        }
        MasterReport r = n.knowledge.report(now);
        if (!c.equals(n.state.votedFor())) {
            n.state = n.state.withVote(c);
            n.issuePersist();
        }
        n.thisTerm.votedAtNanos = now;
        n.electionDeadlineNanos = now + n.electionTimeout();
        n.trace("granted vote for %s in term %d (%s)", c, v.term(), r);
        n.send(new Effect.Respond(c, new VoteResponse(n.self, n.state.term(), n.bootId, v.requestId(), false, true, "",
                v.sentAtNanos(), r)));
    }

    /**
     * Two followers whose pre-vote rounds for the same term cross would each grant the other and
     * both campaign, splitting the votes (with a third candidate already in that term, all three
     * lose: simulator seed 503411 had two such rounds in a row and no master within SPEC's bound).
     * The less preferred one yields: it drops its own round and waits a new election timeout,
     * leaving the term to the candidate it just granted, which its real vote can then elect. Pre-votes
     * decide nothing, so this only changes who campaigns; should the preferred one not campaign,
     * this node's timer fires again within one election timeout.
     */
    private void yieldToPreferred(String candidate, long term, long now) {
        if (!(n.current() instanceof FollowerRole f) || f.preVote == null || f.preVote.term != term) return;
        if (n.peers.rank(candidate) >= n.peers.rank(n.self)) return;
        n.trace("pre-vote round for term %d dropped: %s, preferred, asks for the same term", term, candidate);
        f.preVote = null;
        n.electionDeadlineNanos = now + n.electionTimeout();
    }

    /** Why this node would not vote for the request's candidate, or null. Stickiness is checked here too. */
    String voteRefusal(VoteRequest v, long now) {
        TermState state = n.state;
        if (!n.outbox.storageHealthy()) return "storage failing: " + n.outbox.storageProblem();
        if (n.handOvers.shuttingDown) return "shutting down";
        if (v.preVote() && v.term() <= state.term()) return "stale term " + v.term() + " <= " + state.term();
        if (n.isSticky(now) && !transferAccepted(v)) return stickyReason(now);
        if (v.preVote() && electionUnderWay(v.from(), now) && !transferAccepted(v))
            return "voted for " + state.votedFor() + " in term " + state.term() + " " + Node.ms(now - n.thisTerm.votedAtNanos)
                    + " ms ago: that election may still succeed";
        if (!v.preVote() && state.votedFor() != null && !state.votedFor().equals(v.from()))
            return "already voted for " + state.votedFor() + " in term " + state.term();
        if (n.candidateLogBehind(v.lastLogTerm(), v.lastLogIndex()))
            return "candidate's log (last term " + v.lastLogTerm() + ", index " + v.lastLogIndex() + ") is behind this node's"
                    + " (last term " + n.lastLogTerm() + ", index " + n.lastLogIndex() + ")";
        return null;
    }

    /**
     * True while this node is a candidate (its own election runs until its time-out), and for half
     * an election timeout after it cast its real vote for a candidate other than {@code requester}.
     * A pre-vote grant then would let a rival raise the term just as that candidate wins, and the
     * fresh master would step down for the newer term; Raft resets the election timer on a vote for
     * the same reason. Half of t is more than a voter's answer takes to reach the candidate and no
     * longer than the shortest candidacy, so a failed candidate's rivals are not held back past its
     * own retry. A candidate's own round trip holds two disk writes (its vote, then the voter's), so
     * it keeps its pre-vote for its whole candidacy (at most t), not only t/2 (simulator seed
     * 753205: its grant came 135 ms after it voted for itself, with t/2 = 100 ms).
     */
    private boolean electionUnderWay(String requester, long now) {
        if (n.role() == Role.CANDIDATE) return true;
        String v = n.state.votedFor();
        return v != null && !v.equals(requester) && n.thisTerm.votedAtNanos >= 0
                && now - n.thisTerm.votedAtNanos < n.timing.electionTimeoutNanos() / 2;
    }

    String stickyReason(long now) {
        MasterState ms = n.mastership();
        if (ms != null) return ms.lease.endNanos() > now
                ? "this node is master with a lease for another " + Node.ms(ms.lease.endNanos() - now) + " ms"
                : "this node is master (its lease starts with the first echoes)";
        return n.knowledge.stickyReason(now);
    }

    /** A hand-over from the very master this node is sticky to lets its successor through. */
    boolean transferAccepted(VoteRequest v) {
        return n.knowledge.handedOverBy(v.transfer());
    }

    void refuseVote(VoteRequest v, String why) {
        n.trace("refused vote for %s in term %d: %s", v.from(), v.term(), why);
        n.send(new Effect.Respond(v.from(), new VoteResponse(n.self, n.state.term(), n.bootId, v.requestId(), false, false,
                why, -1, MasterReport.NONE)));
    }

    /**
     * A held message that no longer holds: a vote request whose round is over (a master was heard,
     * the term moved on), or a pre-vote granted before this node heard a live master.
     */
    boolean stale(Effect e, long now) {
        if (e instanceof Effect.Respond r && r.message() instanceof VoteResponse v) {
            if (!v.granted()) return false;
            if (v.preVote()) return n.isSticky(now) || v.term() <= n.state.term();
            // A real vote is on disk either way; the grant is dropped only once it can no longer
            // make a master: a newer term began, or this node follows another live master (a
            // resumed agent works through its backlog at one instant, and may vote, then hear
            // the master of a newer term before its disk answers).
            return v.term() < n.state.term() || (n.master != null && !n.master.equals(r.to()) && n.isSticky(now));
        }
        if (!(e instanceof Effect.Request r) || !(r.message() instanceof VoteRequest v)) return false;
        PreVote round = n.current() instanceof FollowerRole f ? f.preVote : null;
        if (v.preVote())
            return round == null || v.requestId() != round.requestId || v.term() <= n.state.term() || n.isSticky(now);
        return n.role() != Role.CANDIDATE || v.term() != n.state.term();
    }
}
