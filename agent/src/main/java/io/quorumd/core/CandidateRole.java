package io.quorumd.core;

import io.quorumd.core.Message.KeepAlive;
import io.quorumd.core.Message.VoteResponse;

/**
 * A candidate: it counts the real votes of its term and becomes master with a majority; a master's
 * keep-alive of its term makes it a follower. Owns its {@link CandidateState} (the grants and when
 * it asked), which a new master takes along to judge its clearance.
 */
final class CandidateRole extends CampaigningRole {
    final CandidateState votes;

    CandidateRole(Node n, long startedNanos) {
        super(n);
        this.votes = new CandidateState(startedNanos);
    }

    @Override
    Role role() {
        return Role.CANDIDATE;
    }

    @Override
    void onKeepAlive(KeepAlive k, long now) {
        if (!k.claimsMastership()) return;
        n.becomeFollower(k.from(), now, k.from() + " is master in term " + k.term());
        n.follower().follow(k, now);
    }

    @Override
    void onVoteResponse(VoteResponse r, long now) {
        // past the term gate: a real answer in our term (no pre-vote round runs while a candidate)
        if (r.preVote() || !r.granted()) return;
        votes.grants.put(r.from(), new Grant(r.report(), now));
        if (votes.grants.size() >= n.peers.majority()) n.campaign.becomeMaster(now);
    }
}
