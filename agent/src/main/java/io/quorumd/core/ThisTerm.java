package io.quorumd.core;

/**
 * What a node knows only for its current term, created when it adopts a term and dropped with it
 * (as the role objects are with their role), so nothing of an older term survives into a newer one.
 */
final class ThisTerm {
    /** When this run cast its real vote of this term (for itself or a peer); -1: none yet. */
    long votedAtNanos = -1;
    /** The send time of the newest keep-alive of the master followed in this term; -1: none yet. */
    long masterEchoNanos = -1;
}
