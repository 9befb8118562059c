package io.quorumd.core;

import java.util.List;

/**
 * A read-only snapshot of a node for {@code quorumd status}, tests and the simulator's checker.
 *
 * @param leaseEndNanos   the master's lease end (local clock), or -1 when not master or no lease yet
 * @param cleared         this master has permission to run its command (proof, or the wait is over)
 * @param clearAtNanos    when the wait for the old lease ends, or -1
 * @param storageHealthy  false while persisting fails (the node then neither votes nor campaigns)
 */
public record NodeView(String node, Role role, long term, String votedFor, String master,
                       long leaseEndNanos, boolean cleared, long clearAtNanos, boolean commandPermitted,
                       boolean storageHealthy, List<PeerView> peers) {

    /**
     * @param lastContactAgoNanos since the last frame from it, -1 if never
     * @param state              {@code up}, {@code silent}, {@code refused} or {@code never}
     */
    public record PeerView(String id, long lastContactAgoNanos, long term, String state) {}
}
