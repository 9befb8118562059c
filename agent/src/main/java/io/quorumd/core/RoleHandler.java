package io.quorumd.core;

import io.quorumd.core.Message.HandOver;
import io.quorumd.core.Message.KeepAlive;
import io.quorumd.core.Message.VoteResponse;

/**
 * The handling of one role, after the term gate (etcd's {@code stepLeader}, {@code stepCandidate},
 * {@code stepFollower}). The object is the role: {@link Node} creates a new one on every role
 * change and drops the old one with everything it held ({@link FollowerRole}'s pre-vote round,
 * {@link CandidateRole}'s votes, {@link MasterRole}'s lease and clearance), so nothing is reset by
 * hand and nothing of one role survives into the next.
 */
abstract class RoleHandler {
    final Node n;

    RoleHandler(Node n) {
        this.n = n;
    }

    abstract Role role();

    /** A keep-alive in this node's term (the term gate adopted a newer one first). */
    abstract void onKeepAlive(KeepAlive k, long now);

    /** Past the term gate: a pre-vote grant, or a real answer in this node's term. */
    abstract void onVoteResponse(VoteResponse r, long now);

    /** Past the term gate: a hand-over addressed to this node, in its term. */
    abstract void onHandOver(HandOver h, long now);

    /** Time passed: this role's timers. */
    abstract void onTime(long now);

    /** The earliest of {@code d} and this role's own deadlines. */
    abstract long nextDeadline(long d);
}
