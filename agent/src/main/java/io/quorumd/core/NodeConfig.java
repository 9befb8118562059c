package io.quorumd.core;

/**
 * What the core needs to know of the configuration.
 *
 * @param fenceConfigured a fence hook exists, so a new master without proof may try it
 * @param replication     the replicated log runs (the {@code kv} store): the master appends and
 *                        replicates, every node applies; off, the core elects only, as before
 */
public record NodeConfig(Peers peers, Timing timing, boolean fenceConfigured, boolean replication) {
    /** Election only, no replicated log. */
    public NodeConfig(Peers peers, Timing timing, boolean fenceConfigured) {
        this(peers, timing, fenceConfigured, false);
    }
}
