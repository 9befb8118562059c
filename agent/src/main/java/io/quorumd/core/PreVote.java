package io.quorumd.core;

import java.util.Map;
import java.util.TreeMap;

/**
 * A pre-vote round for {@code term}: exists while the node asks "would you vote for me", and is
 * dropped when it campaigns, hears a master or moves to a newer term. Answers to an earlier
 * request of the same term still count (a new request id only replaces lost ones).
 */
final class PreVote {
    final long term;
    final long requestId;
    private final Map<String, Boolean> granted = new TreeMap<>();

    PreVote(long term, long requestId) {
        this.term = term;
        this.requestId = requestId;
    }

    /** Counts a grant; returns how many nodes (this one included) granted so far. */
    int grant(String from) {
        granted.put(from, true);
        return granted.size();
    }
}
