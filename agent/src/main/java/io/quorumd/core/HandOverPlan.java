package io.quorumd.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A hand-over under way: stop the command, resign, then ask one peer after another to campaign at
 * once. It outlives the master role (the command stops first, and the successor is asked after
 * the resignation), so it is not part of {@link MasterState}.
 */
final class HandOverPlan {
    final String requestedTo;
    final boolean shutdown;
    final String reason;
    private final List<String> tried = new ArrayList<>();
    long requestId = -1;
    boolean resigned;

    HandOverPlan(String requestedTo, boolean shutdown, String reason) {
        this.requestedTo = requestedTo;
        this.shutdown = shutdown;
        this.reason = reason;
    }

    /**
     * The named peer, else the most preferred peer that {@code live} accepts; never one already
     * tried, never {@code peers.self()}; null when none is left.
     */
    String successor(Peers peers, Predicate<String> live) {
        String self = peers.self();
        if (requestedTo != null && !tried.contains(requestedTo) && peers.contains(requestedTo)
                && !requestedTo.equals(self)) return requestedTo;
        for (String id : peers.byPreference()) {
            if (id.equals(self) || tried.contains(id)) continue;
            if (!live.test(id)) continue;
            return id;
        }
        return null;
    }

    /** The hand-over request {@code requestId} went to {@code to}. */
    void asked(String to, long requestId) {
        tried.add(to);
        this.requestId = requestId;
    }
}
