package io.quorumd.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What exists only while this node is a candidate: the votes it got in its term (with what each
 * voter knew of the newest master) and when it asked for them. Created on entering the role,
 * dropped on leaving it; a master takes its grants along to judge its clearance.
 */
final class CandidateState {
    /** Grants in arrival order, this node's own first. */
    final Map<String, Grant> grants = new LinkedHashMap<>();
    /** When the vote requests of this term went out. */
    final long startedNanos;

    CandidateState(long startedNanos) {
        this.startedNanos = startedNanos;
    }
}
