package io.quorumd.core;

import io.quorumd.core.Message.HandOverAck;
import io.quorumd.core.Message.Preempt;

/**
 * Preemption ({@code timing.preempt_delay}, off by default: keepalived's {@code nopreempt}). Both
 * sides of it:
 *
 * <ul>
 *   <li><b>The asker</b>, a follower: while it follows a master of a strictly lower priority and
 *       hears that master's keep-alives without a silence longer than {@link #gapNanos()}, the
 *       contact runs; a longer silence, another master or another term starts it again. Once the
 *       contact has run for the delay and this node may campaign at all
 *       ({@link Campaign#campaignRefusal}: storage, shutdown, a command that gave up, an unusable
 *       self-fence device) and the master says it is cleared to run its command, it sends a
 *       {@link Preempt} to the master, then again at most once an election timeout while all of that
 *       still holds.</li>
 *   <li><b>The master</b> honours a {@link Preempt} of its own term only when preemption is on in
 *       its own config, the asker's priority is strictly higher than its own, the asker is live and
 *       echoed one of this master's keep-alives less than {@code t} ago (it follows this master), this
 *       master is cleared to run its command (so that its hand-over is proof: the successor starts at
 *       once, rather than waiting for the same old lease again), and no hand-over is under way. It then answers yes and starts the operator's step-down to the
 *       asker ({@link HandOvers#onStepDown}): the command stops, the master resigns and hands over
 *       with proof. Anything else is answered no, and changes nothing.</li>
 * </ul>
 *
 * <p>Safety rests entirely on the step-down path: a preemption is never an election against the
 * master (the asker stays sticky, votes and campaigns as before) and a request only ever makes a
 * master stop its command and hand over, which is safe at any moment, to any successor. A request
 * from another term (stale, delayed, duplicated) is refused and never moves a term.
 *
 * <p>No flapping: only a strictly higher priority preempts, so each preemption raises the master's
 * priority; a lower-priority master never asks back, and peers of equal priority never preempt each
 * other. Between faults there are at most as many preemptions in a row as distinct priorities.
 */
final class Preemption {
    private final Node n;

    // --- the asker's contact with its master ---
    private String master;
    private long masterTerm = -1;
    private long contactSinceNanos = -1;
    private long lastHeardNanos = -1;
    private long askedAtNanos = -1;
    private long requestId = -1;

    Preemption(Node n) {
        this.n = n;
    }

    /**
     * The longest silence of the master that still counts as contact: half an election timeout,
     * at least two heartbeats (a master silent that long is probed: {@link SilenceProbe}).
     */
    long gapNanos() {
        return Math.max(2 * n.timing.heartbeatNanos(), n.timing.electionTimeoutNanos() / 2);
    }

    /** A keep-alive of {@code from}, master of {@code term}, that this follower follows, arrived at {@code now}. */
    void heard(String from, long term, long now) {
        if (!from.equals(master) || term != masterTerm || lastHeardNanos < 0 || now - lastHeardNanos > gapNanos()) {
            master = from;
            masterTerm = term;
            contactSinceNanos = now;
            askedAtNanos = -1;
        }
        lastHeardNanos = now;
    }

    private boolean inContact(long now) {
        return master != null && master.equals(n.master) && masterTerm == n.state.term() && lastHeardNanos >= 0
                && now - lastHeardNanos <= gapNanos();
    }

    /** A follower's timer: asks its master for a hand-over once the delay has passed (see the class comment). */
    void onTime(long now) {
        if (!n.config.preemptOn() || n.role() != Role.FOLLOWER || !inContact(now)) return;
        if (n.peers.priority(n.self) <= n.peers.priority(master)) return;
        if (!n.knowledge.masterCleared) return;   // it still waits for its own proof: a hand-over now proves nothing
        if (now - contactSinceNanos < n.config.preemptDelayNanos()) return;
        if (askedAtNanos >= 0 && now - askedAtNanos < n.timing.electionTimeoutNanos()) return;
        if (n.campaign.campaignRefusal(now, true) != null) return;   // not healthy: it could not take over
        askedAtNanos = now;
        requestId = n.nextRequestId();
        n.trace("preempt: priority %d > %d of master %s, in contact for %d ms: asking it to hand over",
                n.peers.priority(n.self), n.peers.priority(master), master, Node.ms(now - contactSinceNanos));
        n.send(new Effect.Request(master, new Preempt(n.self, n.state.term(), n.bootId, requestId)));
    }

    /** The answer to this node's own request, if it is one: true when it was. */
    boolean onAnswer(HandOverAck a) {
        if (requestId < 0 || a.requestId() != requestId) return false;
        if (a.accepted()) n.trace("preempt: %s hands over", a.from());
        else n.trace("preempt: %s refused: %s", a.from(), a.reason());
        return true;
    }

    /** A request of a peer, past the term gate (its term is this node's). */
    void onRequest(Preempt p, long now) {
        String why = refusal(p, now);
        if (why != null) {
            refuse(p, why);
            return;
        }
        n.send(new Effect.Respond(p.from(), new HandOverAck(n.self, n.state.term(), n.bootId, p.requestId(), true, "")));
        n.handOvers.onStepDown(p.from(), false, "preempted by " + p.from() + " (priority "
                + n.peers.priority(p.from()) + " > " + n.peers.priority(n.self) + ")", now);
    }

    /** Why this node does not hand over to {@code p}'s sender, or null. */
    String refusal(Preempt p, long now) {
        MasterState ms = n.mastership();
        if (ms == null) return "this node is not master";
        if (!n.config.preemptOn()) return "preemption is off in this master's config";
        if (!ms.cleared) return "this master is not cleared to run its command yet: its hand-over would prove nothing";
        int theirs = n.peers.priority(p.from());
        int ours = n.peers.priority(n.self);
        if (theirs <= ours) return "priority " + theirs + " is not above this master's " + ours;
        if (n.handOvers.plan != null || n.handOvers.shuttingDown) return "a hand-over is under way";
        if (!n.peerTable.live(p.from(), now)) return p.from() + " is not live as this master sees it";
        long echo = ms.lease.newestEcho(p.from());
        if (echo < 0 || now - echo >= n.timing.electionTimeoutNanos())
            return p.from() + " has not echoed this master's keep-alives for " + Node.ms(n.timing.electionTimeoutNanos()) + " ms";
        return null;
    }

    void refuse(Preempt p, String why) {
        n.trace("refused preempt from %s: %s", p.from(), why);
        n.send(new Effect.Respond(p.from(), new HandOverAck(n.self, n.state.term(), n.bootId, p.requestId(), false, why)));
    }
}
