package io.quorumd.core;

import io.quorumd.core.Message.KeepAlive;
import io.quorumd.core.Message.VoteResponse;

/**
 * A follower: it follows the master it hears (echoing its keep-alives at once, so the lease never
 * waits a heartbeat), and once no live master was heard for its election timeout it asks for
 * pre-votes. Owns the pre-vote round under way ({@link PreVote}), dropped when the round ends.
 */
final class FollowerRole extends CampaigningRole {
    /** A pre-vote round under way, or null. */
    PreVote preVote;

    FollowerRole(Node n) {
        super(n);
    }

    @Override
    Role role() {
        return Role.FOLLOWER;
    }

    @Override
    void onKeepAlive(KeepAlive k, long now) {
        if (k.claimsMastership()) {
            if (!k.from().equals(n.master)) n.becomeFollower(k.from(), now, k.from() + " is master in term " + k.term());
            follow(k, now);
        } else if (k.from().equals(n.master) && k.sentAtNanos() > n.thisTerm.masterEchoNanos && k.proof() != null) {
            // the master we follow says it is no longer master and offers proof: hand-over or restart
            // after a hand-over the successor it names campaigns at once (the hand-over asks the
            // next one if that one cannot, this node included): the others leave the term to it
            boolean handOver = k.proof().kind() == Proof.Kind.HANDOVER;
            n.campaign.yieldStickiness(now, k.from() + " resigned (" + k.proof().kind().name().toLowerCase() + ")", !handOver);
        }
    }

    /** The master of this term spoke: follow it, drop the round and the grants it made stale, echo at once. */
    void follow(KeepAlive k, long now) {
        String from = k.from();
        n.master = from;
        if (k.sentAtNanos() > n.thisTerm.masterEchoNanos) n.thisTerm.masterEchoNanos = k.sentAtNanos();
        n.knowledge.heard(from, k.term(), k.cleared(), now);
        n.preemption.heard(from, k.term(), now);
        // pre-vote grants still waiting for a Persist no longer hold: a live master is back
        n.outbox.dropHeld(e -> e instanceof Effect.Respond r && r.message() instanceof VoteResponse v && v.preVote() && v.granted());
        n.electionDeadlineNanos = now + n.electionTimeout();
        preVote = null;
        // echo at once (the heartbeat timer restarts): the lease never waits a follower's heartbeat
        n.publishKeepAlive(now);
    }

    @Override
    void onVoteResponse(VoteResponse r, long now) {
        if (!r.preVote()) return;   // a real vote in our term: this node does not campaign
        // past the term gate: a grant
        if (!answersRound(r) || r.term() != preVote.term) return;
        if (preVote.grant(r.from()) >= n.peers.majority()) n.campaign.startElection(now, null);
    }

    /** True when {@code r} answers this node's current pre-vote round. */
    boolean answersRound(VoteResponse r) {
        return preVote != null && r.requestId() == preVote.requestId;
    }
}
