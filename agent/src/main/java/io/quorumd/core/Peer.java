package io.quorumd.core;

/** One voter as the core knows it: its id and its election priority (higher is preferred). */
public record Peer(String id, int priority) {
    public Peer {
        if (id == null || id.isEmpty()) throw new IllegalArgumentException("peer id must not be empty");
    }
}
