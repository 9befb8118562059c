package io.quorumd.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What exists only while this node is master: its lease, the grants that elected it (and late
 * ones), and its permission to run the command (proof, the wait, the fence). Created on entering
 * the role and dropped on leaving it, so nothing of one term's mastership survives into the next.
 */
final class MasterState {
    /** The grants of its election, then late ones: what each voter knew of the newest master. */
    final Map<String, Grant> grants;
    final Lease lease = new Lease();
    /** Cleared to run the command; never goes back within the role. */
    boolean cleared;
    /** Without proof: when the old lease plus stop_timeout has surely passed; -1 not yet known. */
    long clearAtNanos = -1;
    /** What cleared it (null: not yet). */
    Clearance clearedBy;
    /** When it was cleared (local monotonic clock), or -1 not yet. */
    long clearedAtNanos = -1;
    /** When this node became master of this term (local monotonic clock). */
    final long sinceNanos;
    /** What the wait under way would clear it by: the newest master the voters knew, waited out. */
    Clearance waitClearance;
    /** The old master to fence once its lease has surely ended, or null. */
    String fenceTarget;
    long fenceTargetTerm;
    long fenceAtNanos = -1;
    boolean fenceRequested;
    Proof fenceProof;

    MasterState(Map<String, Grant> grants, long sinceNanos) {
        this.grants = new LinkedHashMap<>(grants);
        this.sinceNanos = sinceNanos;
    }

    /** True when the old master is to be fenced now: its lease has surely ended and it is not fenced yet. */
    boolean fenceDue(long now) {
        return !cleared && fenceTarget != null && !fenceRequested && now >= fenceAtNanos;
    }

    /** True when the wait without proof (the old lease plus stop_timeout) is over. */
    boolean waitOver(long now) {
        return !cleared && clearAtNanos >= 0 && now >= clearAtNanos;
    }

    /** The earliest of {@code d} and this master's own deadlines (lease end, fence, end of the wait). */
    long nextDeadline(long d, long noEchoDeadlineNanos) {
        if (lease.endNanos() >= 0) d = Math.min(d, lease.endNanos());
        else d = Math.min(d, noEchoDeadlineNanos);   // no echo yet: step down then
        if (!cleared && clearAtNanos >= 0) d = Math.min(d, clearAtNanos);
        if (!cleared && fenceTarget != null && !fenceRequested) d = Math.min(d, fenceAtNanos);
        return d;
    }

    /** Clears the master to run its command, by {@code by}, at {@code now}. */
    void clear(Clearance by, long now) {
        cleared = true;
        clearedBy = by;
        clearedAtNanos = now;
    }

    /** Why it is cleared, in words; "" while it is not. */
    String clearReason() {
        return clearedBy == null ? "" : clearedBy.reason();
    }
}
