package io.quorumd.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What this node last heard from each of its peers: when, in which term, from which agent run, and
 * whether that peer's agent refused a connection since. Pure: the caller passes the time.
 */
final class PeerTable {
    private static final class PeerState {
        long lastHeardNanos = -1;
        long term;
        long bootId;
        boolean refused;
    }

    private final Map<String, PeerState> byId = new TreeMap<>();   // sorted: the same order on every run
    private final long electionTimeoutNanos;

    PeerTable(List<String> others, long electionTimeoutNanos) {
        for (String id : others) byId.put(id, new PeerState());
        this.electionTimeoutNanos = electionTimeoutNanos;
    }

    /** A message from peer {@code m.from()} arrived at {@code now}: its agent answers again. */
    void heard(Message m, long now) {
        PeerState ps = byId.get(m.from());
        if (ps == null) throw new IllegalArgumentException("not a peer of this node: " + m.from());
        ps.lastHeardNanos = now;
        ps.term = Math.max(ps.term, m.term());
        ps.refused = false;
        ps.bootId = m.bootId();
    }

    /** The agent of {@code peer} refused a connection; false when {@code peer} is not a peer. */
    boolean refused(String peer) {
        PeerState ps = byId.get(peer);
        if (ps == null) return false;
        ps.refused = true;
        return true;
    }

    /** A peer heard less than {@code t} ago whose agent did not refuse a connection since. */
    boolean live(String id, long now) {
        PeerState ps = byId.get(id);
        return !ps.refused && ps.lastHeardNanos >= 0 && now - ps.lastHeardNanos < electionTimeoutNanos;
    }

    /** The boot id of {@code id}'s agent run that sent its newest frame; 0 if never heard (or not a peer). */
    long bootId(String id) {
        PeerState ps = byId.get(id);
        return ps == null ? 0 : ps.bootId;
    }

    /** When the last frame of {@code id} arrived; -1 if never (or not a peer). */
    long heardAtNanos(String id) {
        PeerState ps = byId.get(id);
        return ps == null ? -1 : ps.lastHeardNanos;
    }

    /** Each peer as status shows it: up, silent, never heard, or refused. */
    List<NodeView.PeerView> view(long now) {
        List<NodeView.PeerView> pv = new ArrayList<>();
        for (Map.Entry<String, PeerState> e : byId.entrySet()) {
            PeerState ps = e.getValue();
            long ago = ps.lastHeardNanos >= 0 ? now - ps.lastHeardNanos : -1;
            String st = ps.refused ? "refused" : ago < 0 ? "never" : ago < electionTimeoutNanos ? "up" : "silent";
            pv.add(new NodeView.PeerView(e.getKey(), ago, ps.term, st));
        }
        return pv;
    }
}
