package io.quorumd.core;

/**
 * The state that must survive a restart ({@code currentTerm}, {@code votedFor}): persisted, fsynced
 * and renamed before anything that depends on it is sent.
 */
public record TermState(long term, String votedFor) {
    public static final TermState INITIAL = new TermState(0, null);

    public TermState {
        if (term < 0) throw new IllegalArgumentException("term must not be negative: " + term);
    }

    /** A newer term, with no vote cast in it yet. */
    public TermState withTerm(long newTerm) {
        if (newTerm <= term) throw new IllegalStateException("term must grow: " + term + " -> " + newTerm);
        return new TermState(newTerm, null);
    }

    /** The vote of this term; one vote per term. */
    public TermState withVote(String candidate) {
        if (votedFor != null && !votedFor.equals(candidate))
            throw new IllegalStateException("already voted for " + votedFor + " in term " + term);
        return new TermState(term, candidate);
    }
}
