package io.quorumd.core;

import io.quorumd.core.Message.HandOver;
import io.quorumd.core.Message.HandOverAck;

import java.util.ArrayList;
import java.util.List;

/**
 * Leaving mastership on purpose, and leaving altogether: a step-down (operator, or a command that
 * failed too often) or a shutdown stops the command, resigns, then asks one peer after another to
 * campaign at once ({@link HandOverPlan}); a shutdown then announces that the agent may exit. The
 * plan outlives the master role (the successor is asked after the resignation), so it lives here
 * rather than in {@link MasterRole}.
 */
final class HandOvers {
    private final Node n;
    /** The hand-over under way, or null. */
    HandOverPlan plan;
    boolean shuttingDown;
    private boolean exitAnnounced;
    /** Step-downs whose asker waits for {@link Effect.StepDownDone}, in arrival order. */
    private final List<Long> waiting = new ArrayList<>();

    HandOvers(Node n) {
        this.n = n;
    }

    /** An operator's step-down: answered once this node is no longer master ({@link #answerStepDowns}). */
    void onStepDownRequested(Event.StepDownRequested s, long now) {
        if (s.requestId() != 0) waiting.add(s.requestId());
        onStepDown(s.to(), false, "step-down requested", now);
    }

    /** After every event: the step-downs asked are done once this node is no longer master. */
    void answerStepDowns() {
        if (waiting.isEmpty() || n.role() == Role.MASTER) return;
        for (long id : waiting) n.emit(new Effect.StepDownDone(id));
        waiting.clear();
    }

    void onStepDown(String to, boolean shutdown, String reason, long now) {
        if (n.role() != Role.MASTER) {
            n.trace("%s ignored: not master", reason);
            return;
        }
        if (plan != null) return;
        plan = new HandOverPlan(to, shutdown, reason);
        n.trace("%s: stopping the command before handing over", reason);
        if (n.commandActive) n.emit(new Effect.StopCommand(n.commandTerm, reason));
        else resign(now);
    }

    void onShutdown(long now) {
        if (shuttingDown) return;
        shuttingDown = true;
        if (n.role() == Role.MASTER) {
            if (plan == null) onStepDown(null, true, "agent shutting down", now);
            // else a hand-over is under way: finish announces the exit
        } else if (plan == null && !n.commandActive) {
            announceExit();
        }
    }

    void onCommandStopped(long term, long now) {
        if (!n.commandActive || term != n.commandTerm) return;
        n.commandActive = false;
        if (n.role() != Role.MASTER || plan != null) {
            n.offeredProof = new Proof(Proof.Kind.HANDOVER, n.self, n.commandTerm, true);
            n.proofs.put(n.self, new Proof(Proof.Kind.SELF, n.self, n.commandTerm, true));
        }
        if (plan != null && !plan.resigned) resign(now);
        else if (shuttingDown && n.role() != Role.MASTER && plan == null) announceExit();
    }

    void onCommandGaveUp(Event.CommandGaveUp g, long now) {
        n.gaveUp = true;
        n.noCampaignUntilNanos = now + n.timing.restartWindowNanos();
        if (n.commandActive && g.term() == n.commandTerm) onCommandStopped(g.term(), now);
        if (n.role() == Role.MASTER) onStepDown(null, false, "command failed too often: " + g.reason(), now);
    }

    /** The command is stopped: give up mastership and tell the successor to campaign. */
    private void resign(long now) {
        HandOverPlan p = plan;
        if (p == null) throw new IllegalStateException("resigning in term " + n.state.term() + " without a hand-over plan");
        p.resigned = true;
        MasterState ms = n.mastership();
        if (ms == null) {
            // Mastership was lost while the command stopped (lease expired, or a newer term was
            // seen): there is nothing to hand over, and asking a peer to campaign would unseat the
            // master that may already rule this term. The proof that the command stopped (set by
            // onCommandStopped, for the command's own term) still goes out with the keep-alives.
            n.trace("hand-over dropped: no longer master (%s)", p.reason);
            n.publishKeepAlive(now);
            finish();
            return;
        }
        boolean wasCleared = ms.cleared;
        long term = n.state.term();
        n.enter(new FollowerRole(n), null, now, p.reason);
        n.offeredProof = new Proof(Proof.Kind.HANDOVER, n.self, term, wasCleared);
        n.proofs.put(n.self, new Proof(Proof.Kind.SELF, n.self, term, wasCleared));
        n.knowledge.masterCleared = wasCleared;
        // let the successor win rather than campaigning again at once
        n.electionDeadlineNanos = now + n.timing.electionTimeoutNanos() + n.electionTimeout();
        n.publishKeepAlive(now);
        askNext(now);
    }

    /** Asks the next successor to campaign, or finishes when none is left. */
    private void askNext(long now) {
        HandOverPlan p = plan;
        if (p == null) return;
        String to = p.successor(n.peers, id -> n.peerTable.live(id, now));
        if (to == null) {
            n.trace("hand-over: no live peer to hand over to");
            finish();
            return;
        }
        p.asked(to, n.nextRequestId());
        n.trace("handing over to %s", to);
        n.send(new Effect.Request(to, new HandOver(n.self, n.state.term(), n.bootId, p.requestId, to, n.offeredProof)));
    }

    void onHandOverAck(HandOverAck a, long now) {
        HandOverPlan p = plan;
        if (p == null || a.requestId() != p.requestId) return;
        if (a.accepted()) {
            n.trace("%s accepted the hand-over", a.from());
            finish();
        } else {
            n.trace("%s refused the hand-over: %s", a.from(), a.reason());
            askNext(now);
        }
    }

    void onRequestFailed(Event.RequestFailed f, long now) {
        HandOverPlan p = plan;
        if (p != null && f.requestId() == p.requestId) {
            n.trace("hand-over to %s failed: %s", f.to(), f.reason());
            askNext(now);
        }
    }

    private void finish() {
        HandOverPlan p = plan;
        plan = null;
        if ((p != null && p.shutdown) || shuttingDown) announceExit();
    }

    void announceExit() {
        if (exitAnnounced) return;
        exitAnnounced = true;
        n.emit(new Effect.ReadyToExit());
    }
}
