package io.quorumd.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The voters of the cluster (1 to 9), this node among them, and the majority they need. */
public final class Peers {
    public static final int MAX_VOTERS = 9;

    private final String self;
    private final Map<String, Peer> byId;   // TreeMap: iteration order is the same on every run
    private final List<String> priorityOrder;

    public Peers(String self, List<Peer> voters) {
        if (voters.isEmpty() || voters.size() > MAX_VOTERS)
            throw new IllegalArgumentException("a cluster has 1 to " + MAX_VOTERS + " voters, got " + voters.size());
        Map<String, Peer> m = new TreeMap<>();
        for (Peer p : voters) {
            if (m.put(p.id(), p) != null) throw new IllegalArgumentException("duplicate peer id " + p.id());
        }
        if (!m.containsKey(self)) throw new IllegalArgumentException("node " + self + " is not among the peers");
        this.self = self;
        this.byId = Collections.unmodifiableMap(m);
        List<String> order = new ArrayList<>(m.keySet());
        // highest priority first; ties broken by id so every node agrees
        order.sort(Comparator.comparingInt((String id) -> -m.get(id).priority()).thenComparing(id -> id));
        this.priorityOrder = List.copyOf(order);
    }

    public String self() { return self; }

    public int size() { return byId.size(); }

    /** {@code n/2 + 1}. */
    public int majority() { return byId.size() / 2 + 1; }

    public boolean contains(String id) { return id != null && byId.containsKey(id); }

    public int priority(String id) { return byId.get(id).priority(); }

    /** All voter ids, sorted. */
    public List<String> ids() { return List.copyOf(byId.keySet()); }

    /** Every voter but this node, sorted. */
    public List<String> others() {
        List<String> l = new ArrayList<>(byId.keySet());
        l.remove(self);
        return l;
    }

    /** 0 for the most preferred node: highest priority, then lowest id. */
    public int rank(String id) { return priorityOrder.indexOf(id); }

    /** Ids from most to least preferred. */
    public List<String> byPreference() { return priorityOrder; }
}
