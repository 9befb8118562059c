package io.quorumd.metrics;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts that only the event loop sees happen (elections, clearances, master changes). Written by
 * the loop thread alone, read by the metrics endpoint's thread on scrape. Always kept: a few
 * increments per role change, whether or not metrics are on.
 */
public final class LoopCounters {
    /** The prefix of the core's trace line when a new master is cleared to run its command. */
    static final String CLEARED_PREFIX = "cleared to run the command in term ";

    private final AtomicLong elections = new AtomicLong();
    private final AtomicLong electionsWon = new AtomicLong();
    private final AtomicLong masterChanges = new AtomicLong();
    private final Map<String, AtomicLong> clearances = new ConcurrentHashMap<>();

    /** This node started an election (it became a candidate). */
    public void electionStarted() {
        elections.incrementAndGet();
    }

    /** This node won an election (it became master). */
    public void electionWon() {
        electionsWon.incrementAndGet();
    }

    /** The master this node knows changed to another node (a fail-over or hand-over, as seen here). */
    public void masterChanged() {
        masterChanges.incrementAndGet();
    }

    /**
     * Looks at a trace line of the core: the one that says this master was cleared to run its
     * command counts a clearance, labelled with the proof it names. Interim: the core does not yet
     * expose the proof in its view (another change does), so the label is read from that line.
     */
    public void trace(String text) {
        if (!text.startsWith(CLEARED_PREFIX)) return;
        int colon = text.indexOf(": ");
        String proof = proofLabel(colon < 0 ? "" : text.substring(colon + 2));
        clearances.computeIfAbsent(proof, k -> new AtomicLong()).incrementAndGet();
    }

    /**
     * The proof as a label: {@code handover}, {@code certificate}, {@code own_stop} (this node was
     * the old master and saw its command stop), {@code fence}, {@code lease_expiry} (the wait),
     * {@code no_previous_master}, {@code same_master}, or {@code other}.
     */
    static String proofLabel(String reason) {
        String r = reason.toLowerCase(Locale.ROOT);
        if (r.startsWith("handover ")) return "handover";
        if (r.startsWith("certificate ")) return "certificate";
        if (r.startsWith("self ")) return "own_stop";
        if (r.startsWith("fence ")) return "fence";
        if (r.startsWith("waited out")) return "lease_expiry";
        if (r.startsWith("no master known")) return "no_previous_master";
        if (r.startsWith("this node is that master")) return "same_master";
        return "other";
    }

    long elections() {
        return elections.get();
    }

    long electionsWon() {
        return electionsWon.get();
    }

    long masterChanges() {
        return masterChanges.get();
    }

    /** Clearances by proof label, sorted. */
    Map<String, Long> clearances() {
        Map<String, Long> m = new TreeMap<>();
        clearances.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }
}
