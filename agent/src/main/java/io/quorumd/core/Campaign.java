package io.quorumd.core;

import io.quorumd.core.Message.HandOver;
import io.quorumd.core.Message.HandOverAck;
import io.quorumd.core.Message.VoteRequest;

/**
 * How a follower or candidate becomes master: the election time-out, the pre-vote round, the real
 * election and its win, a hand-over that asks it to campaign at once, and the end of stickiness
 * when the master it follows resigned or its agent refused a connection. Every refusal to campaign
 * says why ({@link #campaignRefusal}).
 */
final class Campaign {
    private final Node n;

    Campaign(Node n) {
        this.n = n;
    }

    void electionTimedOut(long now) {
        String why = campaignRefusal(now, false);
        if (why != null) {
            n.electionDeadlineNanos = now + retryDelay();
            if (n.role() == Role.CANDIDATE)
                n.becomeFollower(null, now, "election in term " + n.state.term() + " failed: " + why);
            return;
        }
        if (n.current() instanceof CandidateRole c) {
            // the real vote did not reach a majority in time: start over with a pre-vote
            n.becomeFollower(null, now, "election in term " + n.state.term() + " got "
                    + c.votes.grants.size() + " of " + n.peers.size() + " votes");
        }
        startPreVote(now);
    }

    /** Delay before the next pre-vote round once the timeout has passed: about a heartbeat. */
    private long retryDelay() {
        long hb = n.timing.heartbeatNanos();
        return hb + n.random.nextLong(hb);
    }

    /** Stickiness to the master this node knows ends early (it resigned, or its agent is gone). */
    void yieldStickiness(long now, String why) {
        yieldStickiness(now, why, true);
    }

    /**
     * As {@link #yieldStickiness(long, String)}. With {@code campaignSoon} false (a hand-over: the
     * successor campaigns at once) this node stops refusing votes but leaves the term to the
     * successor for an election timeout instead of racing it: a rival candidate of the same term
     * could split the votes. Once per master (the {@code yielded} flag), so the resigned master's
     * later keep-alives do not put the deadline off again.
     */
    void yieldStickiness(long now, String why, boolean campaignSoon) {
        MasterKnowledge knowledge = n.knowledge;
        if (!knowledge.yielded && n.isSticky(now)) {
            n.trace("stickiness to %s ends early: %s", knowledge.master, why);
            knowledge.yielded = true;
            if (n.role() == Role.FOLLOWER) n.master = null;
            if (!campaignSoon) {
                n.electionDeadlineNanos = Math.max(n.electionDeadlineNanos, now + n.electionTimeout());
                return;
            }
            // the preferred node goes first, within a heartbeat
            long hb = n.timing.heartbeatNanos();
            long slot = Math.max(1, hb / n.peers.size());
            n.electionDeadlineNanos = Math.min(n.electionDeadlineNanos,
                    now + n.peers.rank(n.self) * slot + n.random.nextLong(slot));
        }
    }

    /** Why this node may not campaign now, or null. */
    String campaignRefusal(long now, boolean handedOver) {
        if (n.state.exhausted()) return "term " + n.state.term() + " is the largest a term may be";
        if (!n.outbox.storageHealthy()) return "storage failing: " + n.outbox.storageProblem();
        if (n.handOvers.shuttingDown) return "shutting down";
        if (n.gaveUp && now < n.noCampaignUntilNanos) return "command failed too often; no campaign for another "
                + Node.ms(n.noCampaignUntilNanos - now) + " ms";
        if (n.fenceProblem != null) return "self-fence device unusable: " + n.fenceProblem;
        if (!handedOver && n.isSticky(now)) return n.voter.stickyReason(now);
        return null;
    }

    private void startPreVote(long now) {
        FollowerRole f = n.follower();
        long nextTerm = Math.addExact(n.state.term(), 1);   // campaignRefusal keeps it within MAX_TERM
        if (f.preVote == null || f.preVote.term != nextTerm) {
            // a new round; answers to the previous rounds of the same term still count
            f.preVote = new PreVote(nextTerm, n.nextRequestId());
        }
        int granted = f.preVote.grant(n.self);
        n.electionDeadlineNanos = now + retryDelay();
        if (granted >= n.peers.majority()) {
            startElection(now, null);
            return;
        }
        n.trace("pre-vote for term %d", nextTerm);
        for (String p : n.peers.others()) {
            n.send(new Effect.Request(p, new VoteRequest(n.self, nextTerm, n.bootId, f.preVote.requestId, true, now,
                    n.lastLogTerm(), n.lastLogIndex(), null)));
        }
    }

    void startElection(long now, Proof handedOver) {
        MasterReport own = n.knowledge.report(now);
        n.state = n.state.next().withVote(n.self);
        n.thisTerm.votedAtNanos = now;
        n.issuePersist();
        // the pre-vote round ends with the follower role it belonged to
        CandidateRole c = new CandidateRole(n, now);
        n.enter(c, null, now, handedOver != null
                ? "hand-over from " + handedOver.node() + ": campaigning in term " + n.state.term()
                : "no live master: campaigning in term " + n.state.term());
        c.votes.grants.put(n.self, new Grant(own, now));
        long t = n.timing.electionTimeoutNanos();
        n.electionDeadlineNanos = now + t / 2 + n.random.nextLong(Math.max(1, t / 2));
        if (c.votes.grants.size() >= n.peers.majority()) {
            becomeMaster(now);
            return;
        }
        long id = n.nextRequestId();
        for (String p : n.peers.others()) {
            n.send(new Effect.Request(p, new VoteRequest(n.self, n.state.term(), n.bootId, id, false, now, n.lastLogTerm(),
                    n.lastLogIndex(), handedOver)));
        }
    }

    void becomeMaster(long now) {
        CandidateState won = ((CandidateRole) n.current()).votes;
        n.handOvers.plan = null;
        n.offeredProof = null;
        n.enter(new MasterRole(n, won.grants, now), n.self, now, "became master in term " + n.state.term() + ": " + won.grants.size() + " of "
                + n.peers.size() + " votes");
        // The votes say who could be reached when they were asked for: without echoes from a
        // majority within t of that, this master steps down.
        n.knowledge.elected(n.self, n.state.term(), won.startedNanos);
        // Votes are not echoes: the lease starts with the first keep-alives the followers echo.
        n.publishKeepAlive(now);
        n.evaluateClearance(now);
        n.updateLease(now);
    }

    /** A hand-over addressed to this follower or candidate, in its term: campaign at once, unless it may not. */
    void onHandOver(HandOver h, long now) {
        MasterKnowledge knowledge = n.knowledge;
        String why = null;
        if (knowledge.master != null && knowledge.masterTerm == h.term() && !knowledge.master.equals(h.from()))
            why = knowledge.master + " is master of term " + h.term() + ", not " + h.from();
        else if (n.state.exhausted()) why = "term " + n.state.term() + " is the largest a term may be";
        else if (!n.outbox.storageHealthy()) why = "storage failing: " + n.outbox.storageProblem();
        else if (n.handOvers.shuttingDown) why = "shutting down";
        else if (n.gaveUp && n.noCampaignUntilNanos > now) why = "this node's command failed too often";
        else if (n.fenceProblem != null) why = "self-fence device unusable: " + n.fenceProblem;
        if (why != null) {
            refuseHandOver(h, why);
            return;
        }
        n.send(new Effect.Respond(h.from(), new HandOverAck(n.self, n.state.term(), n.bootId, h.requestId(), true, "")));
        n.trace("hand-over from %s: campaigning at once", h.from());
        startElection(now, h.proof());
    }

    void refuseHandOver(HandOver h, String why) {
        n.send(new Effect.Respond(h.from(), new HandOverAck(n.self, n.state.term(), n.bootId, h.requestId(), false, why)));
        n.trace("refused hand-over from %s: %s", h.from(), why);
    }

    /** A peer's agent refused a connection: if it is the master this node knows, stickiness to it ends. */
    void onPeerRefused(String peer, long now) {
        if (!n.peerTable.refused(peer)) return;
        if (peer.equals(n.knowledge.master) && n.role() != Role.MASTER) {
            yieldStickiness(now, "master " + peer + " refused a connection (its agent is gone; no proof for its command)");
        }
    }
}
