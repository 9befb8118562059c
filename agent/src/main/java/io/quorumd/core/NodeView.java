package io.quorumd.core;

import java.util.List;

/**
 * A read-only snapshot of a node for {@code quorumd status}, tests and the simulator's checker.
 *
 * @param leaseEndNanos   the master's lease end (local clock), or -1 when not master or no lease yet
 * @param cleared         this master has permission to run its command (proof, or the wait is over)
 * @param clearAtNanos    when the wait for the old lease ends, or -1
 * @param storageHealthy  false while persisting fails (the node then neither votes nor campaigns)
 * @param clearedBy       on a cleared master: the proof it used, or the wait it sat out; else null
 * @param masterSinceNanos on a master: when it became master of this term (local clock); else -1
 * @param clearedAtNanos  on a cleared master: when it was cleared (local clock); else -1
 */
public record NodeView(String node, Role role, long term, String votedFor, String master,
                       long leaseEndNanos, boolean cleared, long clearAtNanos, boolean commandPermitted,
                       boolean storageHealthy, List<PeerView> peers, Clearance clearedBy,
                       long masterSinceNanos, long clearedAtNanos) {

    /** A view that says what cleared the master but not when. */
    public NodeView(String node, Role role, long term, String votedFor, String master,
                    long leaseEndNanos, boolean cleared, long clearAtNanos, boolean commandPermitted,
                    boolean storageHealthy, List<PeerView> peers, Clearance clearedBy) {
        this(node, role, term, votedFor, master, leaseEndNanos, cleared, clearAtNanos, commandPermitted,
                storageHealthy, peers, clearedBy, -1, -1);
    }

    /** A view that does not say what cleared the master. */
    public NodeView(String node, Role role, long term, String votedFor, String master,
                    long leaseEndNanos, boolean cleared, long clearAtNanos, boolean commandPermitted,
                    boolean storageHealthy, List<PeerView> peers) {
        this(node, role, term, votedFor, master, leaseEndNanos, cleared, clearAtNanos, commandPermitted,
                storageHealthy, peers, null);
    }

    /**
     * @param lastContactAgoNanos since the last frame from it, -1 if never
     * @param state              {@code up}, {@code silent}, {@code refused} or {@code never}
     */
    public record PeerView(String id, long lastContactAgoNanos, long term, String state) {}
}
