package io.quorumd.core;

/**
 * What a voter tells a candidate, with its grant, about the newest master it knows of: the
 * candidate takes the most conservative view of all its voters to bound the old lease.
 *
 * @param master       id of the newest master this voter heard, or null
 * @param masterTerm   its term (0 when none)
 * @param cleared      that master's keep-alive said it had permission to run its command
 * @param heardAgoNanos how long ago (voter's clock) it last heard a live master or granted a vote;
 *                     -1 when never
 * @param amnesic      the voter restarted recently and may have forgotten a newer master; the
 *                     candidate then accepts no proof from this report alone
 */
public record MasterReport(String master, long masterTerm, boolean cleared, long heardAgoNanos, boolean amnesic) {
    public static final MasterReport NONE = new MasterReport(null, 0, false, -1, false);
}
