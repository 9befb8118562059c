package io.quorumd.core;

import io.quorumd.core.Message.HandOver;
import io.quorumd.core.Message.KeepAlive;
import io.quorumd.core.Message.VoteResponse;

import java.util.Map;

/**
 * The master: its lease from the echoes of its keep-alives, its permission to run the command
 * (proof, or the wait for the old lease plus {@code stop_timeout}, and the fence in between), and
 * the start of the command. Owns its {@link MasterState}, created from the votes that elected it
 * and dropped when it stops being master.
 */
final class MasterRole extends RoleHandler {
    final MasterState ms;
    /** The term this node is master of (a newer term seen is adopted before {@link #stepDown} runs). */
    final long term;

    MasterRole(Node n, Map<String, Grant> grants, long now) {
        super(n);
        this.ms = new MasterState(grants, now);
        this.term = n.state.term();
    }

    @Override
    Role role() {
        return Role.MASTER;
    }

    @Override
    void onKeepAlive(KeepAlive k, long now) {
        if (k.claimsMastership())
            throw new IllegalStateException("two masters in term " + k.term() + ": this node " + n.self + " and " + k.from()
                    + " (boot " + Long.toHexString(k.bootId()) + "), which broke the one vote per term");
        if (n.self.equals(k.master()) && k.echoNanos() >= 0 && k.echoNanos() <= now) {
            ms.lease.echo(k.from(), k.echoNanos());
            n.updateLease(now);
        }
    }

    @Override
    void onVoteResponse(VoteResponse r, long now) {
        if (r.preVote() || !r.granted() || ms.grants.containsKey(r.from())) return;
        // a late grant still tells us what that voter knew; it may complete a proof
        // votes are not echoes (the voter is not sticky yet): no lease from them
        ms.grants.put(r.from(), new Grant(r.report(), now));
        if (!ms.cleared) n.evaluateClearance(now);
    }

    @Override
    void onHandOver(HandOver h, long now) {
        n.campaign.refuseHandOver(h, "this node is master");
    }

    @Override
    void onTime(long now) {
        n.updateLease(now);
        if (n.current() != this) return;   // the lease ended
        if (ms.fenceDue(now)) {
            ms.fenceRequested = true;
            n.emit(new Effect.RunFence(ms.fenceTarget, ms.fenceTargetTerm, n.state.term()));
        }
        if (ms.waitOver(now)) {
            ms.clear(ms.waitClearance != null ? ms.waitClearance
                    : new Clearance(Clearance.By.LEASE_EXPIRY, null, 0, "waited out the old lease plus stop_timeout"), now);
            n.trace("cleared to run the command in term %d: %s", n.state.term(), ms.clearReason());
        }
        maybeStartCommand(now);
    }

    @Override
    long nextDeadline(long d) {
        return ms.nextDeadline(d, n.knowledge.lastLiveNanos + n.timing.electionTimeoutNanos());
    }

    /** Mastership lost (lease, a newer term): the command stops, or its stop is proof already. */
    void stepDown(long now, String why) {
        boolean wasCleared = ms.cleared;
        n.enter(new FollowerRole(n), null, now, why);
        if (n.commandActive) {
            n.emit(new Effect.StopCommand(n.commandTerm, why));
        } else {
            n.proofs.put(n.self, new Proof(Proof.Kind.SELF, n.self, term, wasCleared));
            if (wasCleared) n.offeredProof = new Proof(Proof.Kind.HANDOVER, n.self, term, true);
        }
        n.knowledge.masterCleared = wasCleared;
        n.electionDeadlineNanos = now + n.electionTimeout();
        HandOvers h = n.handOvers;
        if (h.shuttingDown && !n.commandActive && h.plan == null) h.announceExit();
    }

    /** See {@link Node#updateLease}. */
    void updateLease(long now) {
        Lease lease = ms.lease;
        if (lease.renew(now, n.peers.majority(), n.leaseNanos()) && lease.endNanos() > now)
            n.emit(new Effect.LeaseRenewed(n.state.term(), lease.endNanos()));
        if (lease.expired(now)) {
            stepDown(now, "lease expired: no majority confirmed this master within " + Node.ms(n.leaseNanos())
                    + " ms (newest echo: " + lease.describeEchoes(now, n.peers.others()) + ")");
        } else if (lease.endNanos() < 0 && now - n.knowledge.lastLiveNanos >= n.timing.electionTimeoutNanos()) {
            stepDown(now, "no majority echoed this master within " + Node.ms(n.timing.electionTimeoutNanos()) + " ms");
        }
    }

    /** See {@link Node#evaluateClearance}. */
    void evaluateClearance(long now) {
        if (ms.cleared) return;
        ClearanceJudge.Verdict v = ClearanceJudge.judge(ms.grants, n.proofs, ms.fenceProof, n.peers, n.state.term());
        if (v.clearedBy() != null) {
            ms.clear(v.clearedBy(), now);
            n.trace("cleared to run the command in term %d: %s", n.state.term(), v.clearedBy().reason());
            return;
        }
        ms.waitClearance = new Clearance(Clearance.By.LEASE_EXPIRY, v.newestMaster(), v.newestMasterTerm(),
                "waited out the old lease plus stop_timeout");
        long waitUntil = n.clearance(now);
        if (waitUntil != ms.clearAtNanos) {
            ms.clearAtNanos = waitUntil;
            n.trace("no proof the old command is gone: waiting %d ms for the old lease plus stop_timeout",
                    Node.ms(Math.max(0, waitUntil - now)));
        }
        String x = v.newestMaster();
        if (x != null && !x.equals(n.self) && n.config.fenceConfigured() && !ms.fenceRequested) {
            // Fence only once the old lease has surely ended: before that the old agent could
            // restart what the fence stopped. Its success then spares the stop_timeout wait.
            ms.fenceTarget = x;
            ms.fenceTargetTerm = v.newestMasterTerm();
            ms.fenceAtNanos = oldLeaseEndPlus(now, 0);
        }
    }

    /** The latest end, over this master's grants, of the old lease plus {@code afterNanos} (see {@link Clearance}). */
    long oldLeaseEndPlus(long now, long afterNanos) {
        return ClearanceJudge.oldLeaseEndPlus(ms.grants.values(), now, n.timing.electionTimeoutNanos(), afterNanos,
                Node.WATCHDOG_SLACK_NANOS);
    }

    private void maybeStartCommand(long now) {
        if (n.gaveUp && now >= n.noCampaignUntilNanos) n.gaveUp = false;
        if (!ms.cleared || n.commandActive || n.handOvers.plan != null || n.gaveUp) return;
        if (!ms.lease.holds(now)) return;
        n.commandActive = true;
        n.commandTerm = n.state.term();
        n.knowledge.masterCleared = true;
        n.emit(new Effect.StartCommand(n.state.term(), n.self, ms.lease.endNanos()));
        n.publishKeepAlive(now);   // tell the followers this master is cleared
    }

    /** The fence hook against the old master finished: a success is proof (checked again by the judge). */
    void onFenceResult(Event.FenceResult f, long now) {
        if (f.oldTerm() <= 0 || !ms.fenceRequested || !f.oldMaster().equals(ms.fenceTarget)
                || f.oldTerm() != ms.fenceTargetTerm) return;
        if (f.succeeded()) {
            ms.fenceProof = new Proof(Proof.Kind.FENCE, f.oldMaster(), f.oldTerm(), false);
            n.trace("fence of %s (term %d) succeeded: %s", f.oldMaster(), f.oldTerm(), f.detail());
            n.evaluateClearance(now);
        } else {
            n.trace("fence of %s (term %d) failed: %s; waiting as usual", f.oldMaster(), f.oldTerm(), f.detail());
        }
    }
}
