package io.quorumd.control;

import io.quorumd.core.Clearance;
import io.quorumd.core.NodeView;
import io.quorumd.core.Role;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code quorumd status} shows, as one immutable snapshot. Times are in milliseconds, counted
 * back from the moment the snapshot was taken.
 *
 * @param role             master, candidate or follower
 * @param votedFor         the vote cast in {@code term}, or null
 * @param master           the master this node knows of in {@code term}, or null
 * @param leaseMillis          time left on the master's lease; null on every other node, and on a master
 *                         that has no lease yet
 * @param commandPermitted this master holds proof, or the old lease plus {@code stop_timeout} is over
 * @param bind             address and port this node listens on, e.g. {@code 198.18.0.11:51621}
 * @param bootId           this agent run's random id (not the kernel's)
 * @param dropped          dropped frames by reason, sorted by reason
 * @param clearedBy        on a master cleared to run its command: the proof it used or the wait it
 *                         sat out, and the old master that was about; null otherwise
 * @param store            the replicated key-value store as this node applied it; null from an older agent
 */
public record Status(String cluster, String node, Role role, long term, String votedFor, String master,
                     Long leaseMillis, boolean commandPermitted, String bind, String bootId, long uptimeMillis,
                     StorageStatus storage, List<PeerStatus> peers, CommandStatus command,
                     Map<String, Long> dropped, ClearedBy clearedBy, StoreStatus store) {

    /** A status without the store's figures (an older agent's). */
    public Status(String cluster, String node, Role role, long term, String votedFor, String master,
                  Long leaseMillis, boolean commandPermitted, String bind, String bootId, long uptimeMillis,
                  StorageStatus storage, List<PeerStatus> peers, CommandStatus command,
                  Map<String, Long> dropped, ClearedBy clearedBy) {
        this(cluster, node, role, term, votedFor, master, leaseMillis, commandPermitted, bind, bootId, uptimeMillis,
                storage, peers, command, dropped, clearedBy, null);
    }

    /** A status that does not say what cleared the master (an older agent's). */
    public Status(String cluster, String node, Role role, long term, String votedFor, String master,
                  Long leaseMillis, boolean commandPermitted, String bind, String bootId, long uptimeMillis,
                  StorageStatus storage, List<PeerStatus> peers, CommandStatus command,
                  Map<String, Long> dropped) {
        this(cluster, node, role, term, votedFor, master, leaseMillis, commandPermitted, bind, bootId, uptimeMillis,
                storage, peers, command, dropped, null);
    }

    /**
     * @param by        {@code certificate}, {@code handover}, {@code fence}, {@code own_stop},
     *                  {@code lease_expiry} (no proof: the old lease plus stop_timeout was waited
     *                  out), {@code no_master} or {@code self}
     * @param oldMaster the earlier master it is about, or null when none was known
     * @param oldTerm   that master's term, or null
     * @param agoMillis   when: how long ago the master was cleared, or null when not known (an older agent)
     * @param afterMillis how long after becoming master it was cleared (the wait, or the time the proof
     *                    took to arrive), or null when not known
     */
    public record ClearedBy(String by, String oldMaster, Long oldTerm, Long agoMillis, Long afterMillis) {
        public ClearedBy {
            if (by == null) throw new IllegalArgumentException("cleared_by needs its kind");
        }

        /** What cleared the master, without when (an older agent's answer). */
        public ClearedBy(String by, String oldMaster, Long oldTerm) {
            this(by, oldMaster, oldTerm, null, null);
        }

        static ClearedBy of(NodeView v, long nowNanos) {
            Clearance c = v.clearedBy();
            if (c == null) return null;
            Long ago = v.clearedAtNanos() < 0 ? null : Math.max(0, nowNanos - v.clearedAtNanos()) / 1_000_000;
            Long after = v.clearedAtNanos() < 0 || v.masterSinceNanos() < 0 ? null
                    : Math.max(0, v.clearedAtNanos() - v.masterSinceNanos()) / 1_000_000;
            return new ClearedBy(c.by().label(), c.oldMaster(), c.oldMaster() == null ? null : c.oldTerm(), ago, after);
        }

        /** {@code certificate of node-b (term 4), 3.2 s ago, 12 ms after it became master}. */
        String text() {
            return by + (oldMaster == null ? "" : " of " + oldMaster + " (term " + oldTerm + ")")
                    + (agoMillis == null ? "" : ", " + duration(agoMillis) + " ago")
                    + (afterMillis == null ? "" : ", " + duration(afterMillis) + " after it became master");
        }
    }

    /**
     * @param state         {@code up}, {@code silent}, {@code refused} or {@code never}
     * @param lastContactMillis since the last frame from it; null if never
     * @param term          the newest term it announced (0 if never)
     */
    public record PeerStatus(String id, String state, Long lastContactMillis, long term) {
        public PeerStatus {
            if (id == null || state == null) throw new IllegalArgumentException("peer id and state are required");
        }
    }

    /**
     * @param state    the supervisor's word for it, e.g. {@code running}, {@code stopped},
     *                 {@code waiting}; {@code none} when no command is configured
     * @param pid      the process group leader's pid, or null when not running
     * @param term     the fencing token it was started with, or null
     * @param restarts restarts within the current {@code restart_window}
     */
    public record CommandStatus(String state, Long pid, Long term, int restarts) {
        /** No command configured: quorumd only elects. */
        public static final CommandStatus NONE = new CommandStatus("none", null, null, 0);

        public CommandStatus {
            if (state == null) throw new IllegalArgumentException("command state is required");
        }
    }

    /**
     * The replicated key-value store on this node: what {@code quorumd kv} reads with {@code --stale}.
     *
     * @param revision     +1 per committed write, as this node applied them
     * @param keys         keys held
     * @param sizeBytes    keys plus values, what {@code kv.max_bytes} bounds
     * @param appliedIndex the replicated log's last entry applied here (a follower that shows the
     *                     master's value holds everything the master has committed)
     */
    public record StoreStatus(long revision, long keys, long sizeBytes, long appliedIndex) {}

    /** This status with the store's figures. */
    public Status withStore(StoreStatus s) {
        return new Status(cluster, node, role, term, votedFor, master, leaseMillis, commandPermitted, bind, bootId,
                uptimeMillis, storage, peers, command, dropped, clearedBy, s);
    }

    /** @param error why the last write of the state file failed; null when healthy */
    public record StorageStatus(boolean healthy, String error) {
        public static final StorageStatus OK = new StorageStatus(true, null);
    }

    public Status {
        if (cluster == null || node == null || role == null || storage == null || command == null)
            throw new IllegalArgumentException("cluster, node, role, storage and command are required");
        peers = List.copyOf(peers);
        dropped = Collections.unmodifiableMap(new TreeMap<>(dropped));
    }

    /**
     * A snapshot from the core's view plus what only the agent knows. Peers are taken from the view
     * (this node left out); nanoseconds become milliseconds.
     *
     * @param nowNanos     the same clock and moment the view was taken at
     * @param storageError the persister's last error, or null
     */
    public static Status of(NodeView view, long nowNanos, String cluster, String bind, String bootId, long uptimeMillis,
                            String storageError, CommandStatus command, Map<String, Long> dropped) {
        Long leaseMillis = view.role() == Role.MASTER && view.leaseEndNanos() >= 0
                ? Math.max(0, view.leaseEndNanos() - nowNanos) / 1_000_000 : null;
        List<PeerStatus> peers = new ArrayList<>();
        for (NodeView.PeerView p : view.peers()) {
            if (p.id().equals(view.node())) continue;
            peers.add(new PeerStatus(p.id(), p.state(),
                    p.lastContactAgoNanos() < 0 ? null : p.lastContactAgoNanos() / 1_000_000, p.term()));
        }
        StorageStatus storage = view.storageHealthy() && storageError == null
                ? StorageStatus.OK : new StorageStatus(false, storageError);
        return new Status(cluster, view.node(), view.role(), view.term(), view.votedFor(), view.master(), leaseMillis,
                view.commandPermitted(), bind, bootId, uptimeMillis, storage, peers, command, dropped,
                ClearedBy.of(view, nowNanos));
    }

    /** The object {@code quorumd status --json} prints, keys in a fixed order. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cluster", cluster);
        m.put("node", node);
        m.put("role", role.label());
        m.put("term", term);
        m.put("voted_for", votedFor);
        m.put("master", master);
        m.put("lease_ms", leaseMillis);
        m.put("command_permitted", commandPermitted);
        m.put("cleared_by", clearedBy == null ? null : clearedBy.by());
        m.put("old_master", clearedBy == null ? null : clearedBy.oldMaster());
        m.put("old_master_term", clearedBy == null ? null : clearedBy.oldTerm());
        m.put("cleared_ms_ago", clearedBy == null ? null : clearedBy.agoMillis());
        m.put("cleared_after_ms", clearedBy == null ? null : clearedBy.afterMillis());
        m.put("bind", bind);
        m.put("boot_id", bootId);
        m.put("uptime_ms", uptimeMillis);
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("healthy", storage.healthy());
        st.put("error", storage.error());
        m.put("storage", st);
        List<Object> ps = new ArrayList<>();
        for (PeerStatus p : peers) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("id", p.id());
            pm.put("state", p.state());
            pm.put("last_contact_ms", p.lastContactMillis());
            pm.put("term", p.term());
            ps.add(pm);
        }
        m.put("peers", ps);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("state", command.state());
        c.put("pid", command.pid());
        c.put("term", command.term());
        c.put("restarts", command.restarts());
        m.put("command", c);
        m.put("dropped", new LinkedHashMap<String, Object>(dropped));
        if (store != null) {
            Map<String, Object> kv = new LinkedHashMap<>();
            kv.put("revision", store.revision());
            kv.put("keys", store.keys());
            kv.put("size_bytes", store.sizeBytes());
            kv.put("applied_index", store.appliedIndex());
            m.put("store", kv);
        }
        return m;
    }

    /** One line of JSON (no trailing newline). */
    public String toJson() {
        return Json.write(toMap());
    }

    /** Reads what {@link #toJson} wrote; keys it does not know are ignored (a newer agent may add some). */
    public static Status fromJson(String json) {
        Object o = Json.parse(json);
        if (!(o instanceof Map<?, ?> m)) throw new JsonException("status: expected an object");
        Map<?, ?> st = get(m, "storage", Map.class, false);
        Map<?, ?> cm = get(m, "command", Map.class, false);
        List<PeerStatus> peers = new ArrayList<>();
        int i = 0;
        List<?> pl = get(m, "peers", List.class, false);
        for (Object p : pl) {
            if (!(p instanceof Map<?, ?> pm)) throw new JsonException("status: peers[" + i + "] is not an object");
            peers.add(new PeerStatus(get(pm, "id", String.class, false), get(pm, "state", String.class, false),
                    get(pm, "last_contact_ms", Long.class, true), get(pm, "term", Long.class, false)));
            i++;
        }
        Map<String, Long> dropped = new TreeMap<>();
        Map<?, ?> dm = get(m, "dropped", Map.class, false);
        for (Map.Entry<?, ?> e : dm.entrySet()) {
            if (!(e.getValue() instanceof Long n)) throw new JsonException("status: dropped." + e.getKey() + " is not an integer");
            dropped.put((String) e.getKey(), n);
        }
        // absent from an older agent's answer
        String clearedByKind = m.containsKey("cleared_by") ? get(m, "cleared_by", String.class, true) : null;
        ClearedBy clearedBy = clearedByKind == null ? null : new ClearedBy(clearedByKind,
                get(m, "old_master", String.class, true), get(m, "old_master_term", Long.class, true),
                m.containsKey("cleared_ms_ago") ? get(m, "cleared_ms_ago", Long.class, true) : null,
                m.containsKey("cleared_after_ms") ? get(m, "cleared_after_ms", Long.class, true) : null);
        StoreStatus store = null;
        if (m.get("store") != null) {
            Map<?, ?> kv = get(m, "store", Map.class, false);
            store = new StoreStatus(get(kv, "revision", Long.class, false), get(kv, "keys", Long.class, false),
                    get(kv, "size_bytes", Long.class, false), get(kv, "applied_index", Long.class, false));
        }
        String role = get(m, "role", String.class, false);
        Role r;
        try {
            r = Role.valueOf(role.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new JsonException("status: role is not master, candidate or follower (got " + role + ")");
        }
        return new Status(get(m, "cluster", String.class, false), get(m, "node", String.class, false), r,
                get(m, "term", Long.class, false), get(m, "voted_for", String.class, true),
                get(m, "master", String.class, true), get(m, "lease_ms", Long.class, true),
                get(m, "command_permitted", Boolean.class, false), get(m, "bind", String.class, true),
                get(m, "boot_id", String.class, true), get(m, "uptime_ms", Long.class, false),
                new StorageStatus(get(st, "healthy", Boolean.class, false), get(st, "error", String.class, true)),
                peers,
                new CommandStatus(get(cm, "state", String.class, false), get(cm, "pid", Long.class, true),
                        get(cm, "term", Long.class, true), Math.toIntExact(get(cm, "restarts", Long.class, false))),
                dropped, clearedBy, store);
    }

    private static <T> T get(Map<?, ?> m, String key, Class<T> type, boolean nullable) {
        if (!m.containsKey(key)) throw new JsonException("status: key \"" + key + "\" is missing");
        Object v = m.get(key);
        if (v == null) {
            if (nullable) return null;
            throw new JsonException("status: \"" + key + "\" must not be null");
        }
        if (!type.isInstance(v))
            throw new JsonException("status: \"" + key + "\" should be a " + type.getSimpleName() + " (got " + Json.write(v) + ")");
        return type.cast(v);
    }

    /** The human-readable form of {@code quorumd status}: aligned key/value lines, then one line per peer. */
    public String toTable() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"cluster", cluster});
        rows.add(new String[] {"node", node + " (bind " + orDash(bind) + ", boot id " + orDash(bootId)
                + ", up " + duration(uptimeMillis) + ")"});
        rows.add(new String[] {"role", role.label()});
        rows.add(new String[] {"term", term + (votedFor == null ? " (no vote)" : " (voted for " + votedFor + ")")});
        rows.add(new String[] {"master", master == null ? "none known" : master});
        if (role == Role.MASTER) {
            rows.add(new String[] {"lease", leaseMillis == null ? "none yet" : duration(leaseMillis) + " left"});
            if (!commandPermitted) rows.add(new String[] {"permission", "waiting: the old master's command may still run"});
            else if (clearedBy != null) rows.add(new String[] {"cleared", "by " + clearedBy.text()});
        }
        rows.add(new String[] {"command", commandText()});
        rows.add(new String[] {"storage", storage.healthy() ? "ok"
                : "FAILING" + (storage.error() == null ? "" : ": " + storage.error())});
        rows.add(new String[] {"dropped", droppedText()});
        if (store != null) rows.add(new String[] {"store", "revision " + store.revision() + ", " + store.keys()
                + (store.keys() == 1 ? " key, " : " keys, ") + store.sizeBytes() + " bytes, log applied to index "
                + store.appliedIndex()});
        StringBuilder sb = new StringBuilder();
        appendAligned(rows, sb);
        if (!peers.isEmpty()) {
            List<String[]> pr = new ArrayList<>();
            pr.add(new String[] {"PEER", "STATE", "LAST CONTACT", "TERM"});
            for (PeerStatus p : peers)
                pr.add(new String[] {p.id(), p.state(), p.lastContactMillis() == null ? "never" : duration(p.lastContactMillis()) + " ago",
                        Long.toString(p.term())});
            sb.append('\n');
            appendAligned(pr, sb);
        }
        return sb.toString();
    }

    private String commandText() {
        if (command.state().equals("none")) return "none configured";
        StringBuilder sb = new StringBuilder(command.state());
        if (command.pid() != null) sb.append(", pid ").append(command.pid());
        if (command.term() != null) sb.append(", term ").append(command.term());
        sb.append(", restarts ").append(command.restarts());
        return sb.toString();
    }

    private String droppedText() {
        if (dropped.isEmpty()) return "none";
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Long> e : dropped.entrySet()) {
            if (sb.length() > 0) sb.append(", ");
            sb.append(e.getKey()).append(' ').append(e.getValue());
        }
        return sb.toString();
    }

    private static void appendAligned(List<String[]> rows, StringBuilder sb) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int c = 0; c < cols; c++) w[c] = Math.max(w[c], r[c].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < cols; c++) {
                line.append(r[c]);
                if (c < cols - 1) line.append(" ".repeat(w[c] - r[c].length() + 2));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    /** 45 ms, 3.2 s, 5m07s, 1h02m03s. */
    static String duration(long ms) {
        if (ms < 1000) return ms + " ms";
        if (ms < 60_000) return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        long s = ms / 1000;
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60);
    }
}
