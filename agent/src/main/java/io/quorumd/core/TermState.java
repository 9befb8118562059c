package io.quorumd.core;

/**
 * The state that must survive a restart ({@code currentTerm}, {@code votedFor}): persisted, fsynced
 * and renamed before anything that depends on it is sent.
 */
public record TermState(long term, String votedFor) {
    public static final TermState INITIAL = new TermState(0, null);
    /**
     * The largest term a node adopts, stores or campaigns past: 2^62 - 1. Frames naming a larger
     * one are dropped ({@code bad_term}) and a state file holding one is refused, so no term
     * arithmetic ({@code term + 1}) can overflow; a node at this term never campaigns again
     * (at one election a millisecond that takes 146 million years).
     */
    public static final long MAX_TERM = (1L << 62) - 1;

    public TermState {
        if (term < 0) throw new IllegalArgumentException("term must not be negative: " + term);
        if (term > MAX_TERM) throw new IllegalArgumentException("term must be at most 2^62-1 (" + MAX_TERM + "): " + term);
    }

    /** True for a term a node may hold: 0 to {@link #MAX_TERM}. */
    public static boolean validTerm(long term) {
        return term >= 0 && term <= MAX_TERM;
    }

    /** A newer term, with no vote cast in it yet. */
    public TermState withTerm(long newTerm) {
        if (newTerm <= term) throw new IllegalStateException("term must grow: " + term + " -> " + newTerm);
        if (newTerm > MAX_TERM) throw new IllegalStateException("term must be at most " + MAX_TERM + ": " + term + " -> " + newTerm);
        return new TermState(newTerm, null);
    }

    /** The next term, with no vote; only when this one is below {@link #MAX_TERM} (see {@link #exhausted}). */
    public TermState next() {
        return withTerm(Math.addExact(term, 1));
    }

    /** True when no newer term exists: the node may not campaign. */
    public boolean exhausted() {
        return term >= MAX_TERM;
    }

    /** The vote of this term; one vote per term. */
    public TermState withVote(String candidate) {
        if (votedFor != null && !votedFor.equals(candidate))
            throw new IllegalStateException("already voted for " + votedFor + " in term " + term);
        return new TermState(term, candidate);
    }
}
