package io.quorumd.metrics;

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
     * This node, as a new master, was cleared to run its command by {@code proof}: the label the
     * core gives it and {@code status --json} shows as {@code cleared_by} ({@code certificate},
     * {@code handover}, {@code fence}, {@code own_stop}, {@code lease_expiry}, {@code no_master},
     * {@code self}).
     */
    public void cleared(String proof) {
        clearances.computeIfAbsent(proof, k -> new AtomicLong()).incrementAndGet();
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
