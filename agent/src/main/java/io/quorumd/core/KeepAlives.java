package io.quorumd.core;

import io.quorumd.core.Message.KeepAlive;

/**
 * This node's keep-alives: every heartbeat, and at once when a follower echoes its master or a
 * master is cleared. A keep-alive announces the term, so none leaves while a write is pending or
 * the disk fails; the suppressed one goes out as soon as every write is acknowledged.
 */
final class KeepAlives {
    private final Node n;
    /** When the next keep-alive is due (local clock). */
    long nextNanos;
    private boolean suppressed;

    KeepAlives(Node n) {
        this.n = n;
    }

    void publish(long now) {
        nextNanos = now + n.timing.heartbeatNanos();
        if (!n.outbox.mayAnnounce()) {   // never announce an unpersisted term
            suppressed = true;
            return;
        }
        suppressed = false;
        MasterState ms = n.mastership();
        boolean isMaster = ms != null;
        long lastLive = n.knowledge.lastLiveNanos;
        long contactAgo = isMaster ? 0 : (lastLive >= 0 ? now - lastLive : -1);
        n.emit(new Effect.Publish(new KeepAlive(n.self, n.state.term(), n.bootId, now, isMaster ? n.self : n.master,
                isMaster ? -1 : (n.master != null ? n.thisTerm.masterEchoNanos : -1), contactAgo, isMaster && ms.cleared,
                isMaster ? null : n.offeredProof, n.lastLogTerm(), n.lastLogIndex())));
    }

    /** Every write is acknowledged: a keep-alive held back for it goes out now. */
    void afterPersisted(long now) {
        if (suppressed) publish(now);
    }
}
