package io.quorumd.command;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What every child learns about its cluster through {@code QUORUMD_*} variables (SPEC). */
public record BaseEnv(String cluster, String node, List<String> peers) {
    /**
     * Variables that must not leak from the agent into its children: systemd's service protocol
     * (a child could otherwise notify or feed the watchdog in the agent's name).
     */
    static final List<String> NOT_INHERITED = List.of("NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC",
            "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES");

    public BaseEnv {
        if (cluster == null || node == null || peers == null) {
            throw new IllegalArgumentException("cluster, node and peers are required (got " + cluster + ", "
                    + node + ", " + peers + ")");
        }
        peers = List.copyOf(peers);
    }

    /** The SPEC's six variables for a child running in {@code role} ("master" or "follower"). */
    public Map<String, String> variables(String role, long term, String master) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("QUORUMD_CLUSTER", cluster);
        v.put("QUORUMD_NODE", node);
        v.put("QUORUMD_TERM", Long.toString(term));
        v.put("QUORUMD_MASTER", master == null ? "" : master);
        v.put("QUORUMD_ROLE", role);
        v.put("QUORUMD_PEERS", String.join(",", peers));
        return v;
    }

    /**
     * The managed command's environment in {@code env} (a ProcessBuilder's copy of the caller's):
     * {@code extra} ({@code command.env}) and the SPEC's variables for {@code role}, as {@link
     * #apply} does for the command itself; for {@code quorumd exec}.
     */
    public void applyTo(Map<String, String> env, Map<String, String> extra, String role, long term, String master) {
        apply(env, extra, variables(role, term, master));
    }

    /**
     * Rewrites {@code env} (a ProcessBuilder's copy of the agent's environment) in place: drops
     * inherited {@code QUORUMD_*} and systemd variables, adds {@code extra}, then {@code quorumd}
     * (which therefore wins), so the child sees exactly the SPEC's {@code QUORUMD_*} set.
     */
    static void apply(Map<String, String> env, Map<String, String> extra, Map<String, String> quorumd) {
        env.keySet().removeIf(k -> k.startsWith("QUORUMD_") || NOT_INHERITED.contains(k));
        env.putAll(extra);
        env.keySet().removeIf(k -> k.startsWith("QUORUMD_"));
        env.putAll(quorumd);
    }
}
