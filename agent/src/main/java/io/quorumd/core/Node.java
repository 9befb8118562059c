package io.quorumd.core;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The election and lease state machine of one node. See package docs. (Implementation in progress.)
 */
public class Node {
    protected final NodeConfig config;
    protected final RandomGenerator random;

    public Node(NodeConfig config, TermState durable, long bootId, Proof certificate,
                RandomGenerator random, long nowNanos) {
        this.config = config;
        this.random = random;
    }

    public List<Effect> handle(Event event, long nowNanos) {
        return new ArrayList<>();
    }

    /** The local time at which {@link #handle} should next be called with a {@link Event.Tick}. */
    public long nextDeadlineNanos() {
        return Long.MAX_VALUE;
    }

    public NodeView view(long nowNanos) {
        return null;
    }
}
