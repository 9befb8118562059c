package io.quorumd.core;

import io.quorumd.core.Message.HandOver;

/**
 * What a follower and a candidate share: an election deadline (none while the agent shuts down)
 * whose passing starts the next pre-vote round, and a hand-over that makes it campaign at once.
 */
abstract class CampaigningRole extends RoleHandler {
    CampaigningRole(Node n) {
        super(n);
    }

    @Override
    final void onHandOver(HandOver h, long now) {
        n.campaign.onHandOver(h, now);
    }

    @Override
    final void onTime(long now) {
        if (!n.handOvers.shuttingDown && now >= n.electionDeadlineNanos) n.campaign.electionTimedOut(now);
    }

    @Override
    final long nextDeadline(long d) {
        return n.handOvers.shuttingDown ? d : Math.min(d, n.electionDeadlineNanos);
    }
}
