package io.quorumd.config;

import io.quorumd.command.RestartPolicy;
import io.quorumd.config.ValueReader.Fields;
import io.quorumd.core.Peers;
import io.quorumd.security.CurveKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * quorumd's schema: which keys exist where, their defaults, and the rules that tie settings
 * together (node among the peers, distinct ids, port pairs, election timeout against heartbeat).
 * It collects every problem in one pass, so that an operator fixes the file in one round, and it
 * only descends where the schema expects something: a self-referencing alias or an alias "bomb"
 * is met as one wrong value, never expanded.
 */
final class ConfigBinder {
    static final int MAX_PEERS = Peers.MAX_VOTERS;
    static final int MAX_PRIORITY = 1000;
    /** sun_path is 108 bytes with its terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    private static final List<String> TOP_KEYS = List.of("cluster", "node", "bind", "security", "peers", "timing",
            "command", "hooks", "state_dir", "control_socket", "kv", "log_level", "metrics", "self_fence");
    private static final List<String> KV_KEYS = List.of("max_bytes", "snapshot_entries");
    private static final List<String> METRICS_KEYS = List.of("listen");
    private static final List<String> SELF_FENCE_KEYS = List.of("mode", "device");
    private static final List<String> PEER_KEYS = List.of("id", "host", "port", "priority", "public_key");
    private static final List<String> SECURITY_KEYS = List.of("curve");
    private static final List<String> CURVE_KEYS = List.of("key");
    private static final List<String> TIMING_KEYS = List.of("heartbeat", "election_timeout", "clock_drift",
            "preempt_delay");
    private static final List<String> COMMAND_KEYS = List.of("exec", "workdir", "env", "stop_signal", "stop_timeout",
            "restart", "max_restarts", "restart_window");
    private static final List<String> HOOKS_KEYS = List.of("on_master", "on_follower", "fence", "timeout");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Path file;
    private final ValueReader r;
    /** Every peer's id when each one was readable, for the check of {@code node}. */
    private List<String> peerIds;
    /** Each peer's mapping (null where an item is not one), for the checks of {@code public_key}. */
    private List<Fields> peerFields;

    ConfigBinder(Path file, SourceText source, Map<String, ConfigLoader.AliasUse> aliases) {
        this.file = file;
        this.r = new ValueReader(file, source, aliases);
    }

    LoadedConfig bind(Node root) throws ConfigException {
        Fields top;
        if (root == null || ValueReader.isNull(root)) {
            top = r.absent("", Position.START);   // empty, nothing but comments, or a bare "---"
        } else if (root instanceof MappingNode) {
            top = r.fields("", (MappingNode) root, TOP_KEYS);
        } else {
            r.problem(root, "", "the file must be a mapping of settings, starting with cluster:, node: and peers:");
            throw r.failure();
        }
        String cluster = r.name(top, "cluster", "the cluster's name");
        String node = r.name(top, "node", "this node's id, one of peers[].id");
        String bind = bind(top);
        SecurityConfig security = security(top);
        List<PeerConfig> peers = peers(top);
        if (peers != null) publicKeys(top, peers);
        if (node != null && peerIds != null && !peerIds.contains(node)) {
            r.problem(top.value("node"), "node", "must be one of the peer ids "
                    + String.join(", ", new LinkedHashSet<>(peerIds)) + "; list this node under peers too");
        }
        TimingConfig timing = timing(top);
        CommandConfig command = command(top);
        HooksConfig hooks = hooks(top);
        Path stateDir = r.absolutePath(top, "state_dir", Config.DEFAULT_STATE_DIR, "an absolute path");
        Path controlSocket = controlSocket(top);
        KvConfig kv = kv(top);
        String logLevel = r.choice(top, "log_level", Config.DEFAULT_LOG_LEVEL, Config.LOG_LEVELS::contains,
                "error, warn, info, debug or trace");
        MetricsConfig metrics = metrics(top);
        SelfFenceConfig selfFence = selfFence(top);
        if (r.hasProblems()) throw r.failure();
        Config config = new Config(file, cluster, node, bind, peers, security, timing, command, hooks, stateDir, controlSocket,
                logLevel, metrics, selfFence, kv);
        return new LoadedConfig(config, r.positions());
    }

    private String bind(Fields top) {
        String s = r.string(top, "bind", Config.BIND_AUTO, "auto or an IP address of this host");
        if (s == null || s.equals(Config.BIND_AUTO)) return s;
        if (Hosts.ipLiteral(s) != null) return s;
        r.problem(top.value("bind"), "bind", Hosts.hostProblem(s) == null
                ? "must be auto or an IP address, not a host name: quorumd binds before it may trust DNS"
                : "must be auto or an IP address of this host");
        return null;
    }

    private List<PeerConfig> peers(Fields top) {
        Node n = top.value("peers");
        if (n == null) {
            r.missing(top, "peers");
            return null;
        }
        r.record("peers", n);
        if (!(n instanceof SequenceNode)) {
            r.problem(n, "peers", "must be a list of every voter, this node included, each with id and host");
            return null;
        }
        List<Node> items = ((SequenceNode) n).getValue();
        if (items.isEmpty()) {
            r.problem(n, "peers", "must list every voter, this node included");
            return null;
        }
        boolean ok = true;
        if (items.size() > MAX_PEERS) {
            r.problemGot(n, "peers", "at most " + MAX_PEERS + " voters are supported", items.size() + " peers");
            ok = false;
        }
        List<PeerConfig> peers = new ArrayList<>();
        List<Node> idNodes = new ArrayList<>();
        List<Node> portNodes = new ArrayList<>();
        List<Position> peerPositions = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        peerFields = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String path = ValueReader.item("peers", i);
            Node itemNode = items.get(i);
            r.record(path, itemNode);
            if (!(itemNode instanceof MappingNode)) {
                r.problem(itemNode, path, "must be a mapping with id and host (and optionally port, priority)");
                peers.add(null);
                idNodes.add(null);
                portNodes.add(null);
                peerPositions.add(null);
                peerFields.add(null);
                ids.add(null);
                continue;
            }
            Fields pf = r.fields(path, (MappingNode) itemNode, PEER_KEYS);
            String id = r.name(pf, "id", "the peer's id");
            String host = host(pf);
            Integer port = r.integer(pf, "port", PeerConfig.DEFAULT_PORT, 1, 65534,
                    "a port number from 1 to 65534 (port + 1 is used too)");
            Integer priority = r.integer(pf, "priority", PeerConfig.DEFAULT_PRIORITY, 0, MAX_PRIORITY,
                    "a whole number from 0 to " + MAX_PRIORITY + "; higher is preferred as master");
            String publicKey = publicKey(pf);
            boolean valid = id != null && host != null && port != null && priority != null
                    && (publicKey != null || !pf.has("public_key"));
            peers.add(valid ? new PeerConfig(id, host, port, priority, publicKey) : null);
            idNodes.add(pf.value("id"));
            portNodes.add(pf.value("port"));
            peerPositions.add(pf.at);
            peerFields.add(pf);
            ok &= valid;
            ids.add(id);
        }
        if (!ids.contains(null)) peerIds = ids;
        // duplicate ids and overlapping port pairs, each reported on the later peer
        for (int i = 0; i < ids.size(); i++) {
            int first = ids.indexOf(ids.get(i));
            if (ids.get(i) != null && first < i) {
                r.problem(idNodes.get(i), ValueReader.item("peers", i) + ".id",
                        "duplicate peer id: peers[" + first + "] has it already; give every peer its own id");
                ok = false;
            }
        }
        for (int i = 0; i < peers.size(); i++) {
            PeerConfig p = peers.get(i);
            if (p == null) continue;
            for (int j = 0; j < i; j++) {
                PeerConfig q = peers.get(j);
                if (q == null || !Hosts.hostKey(p.host()).equals(Hosts.hostKey(q.host()))) continue;
                if (Math.abs(p.port() - q.port()) <= 1) {
                    Node portNode = portNodes.get(i);
                    String what = (portNode == null ? "the default ports " : "ports ") + p.port() + "-" + (p.port() + 1)
                            + " overlap ports " + q.port() + "-" + (q.port() + 1) + " of peers[" + j + "] (" + q.id()
                            + ") on the same host " + p.host() + "; on one host, keep ports at least 2 apart";
                    if (portNode != null) {
                        r.problem(portNode, ValueReader.item("peers", i) + ".port", what);
                    } else {
                        r.add(peerPositions.get(i), ValueReader.item("peers", i) + ".port", what, null);
                    }
                    ok = false;
                    break;
                }
            }
        }
        return ok ? peers : null;
    }

    /**
     * {@code security: {curve: {key: PATH}}}, or null (trusted mode) when the file has no
     * {@code security} key. A {@code security} key that is there but says nothing is refused: an
     * operator who wrote it believes in authentication the cluster would not have.
     */
    private SecurityConfig security(Fields top) {
        String expected = "a mapping with curve: {key: PATH}; leave security out for trusted mode";
        Fields sf = r.section(top, "security", SECURITY_KEYS, expected);
        if (sf == null) return null;
        if (sf.absent) {
            if (top.has("security")) r.problem(top.value("security"), "security", "must be " + expected);
            return null;
        }
        Fields cf = r.section(sf, "curve", CURVE_KEYS, "a mapping with key: the path of this node's key pair");
        if (cf == null) return null;
        if (cf.absent) {
            if (sf.has("curve")) {
                r.problem(sf.value("curve"), sf.keyPath("curve"), "must be a mapping with key: the path of this"
                        + " node's key pair (the PATH_secret file of quorumd keygen --out PATH)");
            } else {
                r.missing(sf, "curve");
            }
            return null;
        }
        if (!cf.has("key")) {
            r.missing(cf, "key");
            return null;
        }
        Path key = r.absolutePath(cf, "key", null, "an absolute path to this node's key pair (the PATH_secret file"
                + " of quorumd keygen --out PATH)");
        return key == null ? null : new SecurityConfig(key);
    }

    /** {@code peers[i].public_key}: null when absent or wrong (a problem then). */
    private String publicKey(Fields pf) {
        if (!pf.has("public_key")) return null;
        String s = r.string(pf, "public_key", null, "a CURVE public key: 40 Z85 characters, as quorumd keygen prints it");
        if (s == null) return null;
        if (!CurveKeys.isZ85Key(s)) {
            r.problem(pf.value("public_key"), pf.keyPath("public_key"), "must be a CURVE public key: 40 Z85"
                    + " characters, as quorumd keygen prints it (quote it: Z85 has characters YAML reads specially)");
            return null;
        }
        return s;
    }

    /**
     * CURVE is all or nothing: with {@code security.curve} every peer needs its public key, and a
     * public key without {@code security.curve} is authentication the operator believes in but does
     * not have.
     */
    private void publicKeys(Fields top, List<PeerConfig> peers) {
        boolean curve = top.has("security");   // a wrong security section is reported already
        for (int i = 0; i < peers.size(); i++) {
            Fields pf = peerFields.get(i);
            if (pf == null) continue;   // not a mapping: reported already
            String path = ValueReader.item("peers", i) + ".public_key";
            if (curve && !pf.has("public_key")) {
                r.add(pf.at, path, "required with security.curve: every peer's CURVE public key (quorumd keygen"
                        + " prints it on the peer's host)", null);
            } else if (!curve && pf.has("public_key")) {
                r.problem(pf.value("public_key"), path, "is set but there is no security.curve, so no key would be"
                        + " checked: add security: {curve: {key: PATH_secret}} or remove every public_key");
            }
        }
    }

    private TimingConfig timing(Fields top) {
        Fields tf = r.section(top, "timing", TIMING_KEYS,
                "a mapping with heartbeat, election_timeout, clock_drift and preempt_delay");
        if (tf == null) return null;
        Duration heartbeat = r.duration(tf, "heartbeat", TimingConfig.DEFAULT_HEARTBEAT, false);
        Duration election = r.duration(tf, "election_timeout", TimingConfig.DEFAULT_ELECTION_TIMEOUT, false);
        Double drift = r.percent(tf, "clock_drift", TimingConfig.DEFAULT_CLOCK_DRIFT, TimingConfig.MAX_CLOCK_DRIFT,
                "a larger drift would make the master's lease too short to be useful");
        if (heartbeat == null || election == null || drift == null) return null;
        Duration least = heartbeat.multipliedBy(3);
        if (election.compareTo(least) < 0) {
            if (tf.has("election_timeout")) {
                r.problem(tf.value("election_timeout"), tf.keyPath("election_timeout"), "must be at least 3 x heartbeat ("
                        + Durations.format(least) + "), so that a few lost keep-alives do not start an election");
            } else {
                r.problem(tf.value("heartbeat"), tf.keyPath("heartbeat"), "must be at most a third of election_timeout ("
                        + Durations.format(election) + " by default); lower it or set election_timeout");
            }
            return null;
        }
        Duration preempt = null;
        if (tf.has("preempt_delay")) {
            String s = r.string(tf, "preempt_delay", TimingConfig.PREEMPT_OFF, "off or a duration such as 30s");
            if (s == null) return null;
            if (!s.equals(TimingConfig.PREEMPT_OFF)) {
                try {
                    preempt = Durations.parse(s, false);
                } catch (IllegalArgumentException e) {
                    r.problem(tf.value("preempt_delay"), tf.keyPath("preempt_delay"), "must be off or a duration: "
                            + e.getMessage());
                    return null;
                }
                // a peer must have heard the master for at least a whole stickiness window: a node
                // that just started (or just healed) has not yet shown that its link holds
                if (preempt.compareTo(election) < 0) {
                    r.problem(tf.value("preempt_delay"), tf.keyPath("preempt_delay"), "must be off or at least"
                            + " election_timeout (" + Durations.format(election) + "), so that a peer takes over only"
                            + " after it has heard the master for a whole election timeout");
                    return null;
                }
            }
        }
        return new TimingConfig(heartbeat, election, drift, preempt);
    }

    private CommandConfig command(Fields top) {
        Fields cf = r.section(top, "command", COMMAND_KEYS, "a mapping with at least exec");
        if (cf == null || cf.absent) return null;
        Exec exec = exec(cf);
        Path workdir = r.absolutePath(cf, "workdir", null, "an absolute path");
        Map<String, String> env = env(cf);
        Signal stopSignal = r.parsed(cf, "stop_signal", CommandConfig.DEFAULT_STOP_SIGNAL, Signal::parse,
                "a signal name such as TERM");
        Duration stopTimeout = r.duration(cf, "stop_timeout", CommandConfig.DEFAULT_STOP_TIMEOUT, true);
        RestartPolicy restart = r.parsed(cf, "restart", CommandConfig.DEFAULT_RESTART, RestartPolicy::parse,
                "never, on-failure or always");
        Integer maxRestarts = r.integer(cf, "max_restarts", CommandConfig.DEFAULT_MAX_RESTARTS, 0, 999_999_999,
                "a whole number, 0 or more");
        Duration window = r.duration(cf, "restart_window", CommandConfig.DEFAULT_RESTART_WINDOW, false);
        if (exec == null || env == null || stopSignal == null || stopTimeout == null || restart == null
                || maxRestarts == null || window == null) return null;
        if (cf.has("workdir") && workdir == null) return null;
        return new CommandConfig(exec.argv, exec.shell, workdir, env, stopSignal, stopTimeout, restart, maxRestarts,
                window);
    }

    private record Exec(List<String> argv, boolean shell) {}

    private Exec exec(Fields cf) {
        Node n = cf.value("exec");
        String path = cf.keyPath("exec");
        if (n == null) {
            r.missing(cf, "exec");
            return null;
        }
        r.record(path, n);
        String expected = "a list (the program and its arguments) or a string run by /bin/sh -c";
        if (n instanceof ScalarNode && !ValueReader.isNull(n)) {
            String script = ((ScalarNode) n).getValue();
            if (script.isBlank()) {
                r.problem(n, path, "the shell command must not be empty");
                return null;
            }
            if (script.indexOf('\0') >= 0) {
                r.problem(n, path, "must not contain a NUL character");
                return null;
            }
            return new Exec(List.of(CommandConfig.SHELL, "-c", script), true);
        }
        if (!(n instanceof SequenceNode)) {
            r.problem(n, path, "must be " + expected);
            return null;
        }
        List<Node> items = ((SequenceNode) n).getValue();
        if (items.isEmpty()) {
            r.problem(n, path, "must not be empty: give the program and its arguments");
            return null;
        }
        List<String> argv = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < items.size(); i++) {
            Node a = items.get(i);
            String ap = ValueReader.item(path, i);
            r.record(ap, a);
            if (!(a instanceof ScalarNode) || ValueReader.isNull(a)) {
                r.problem(a, ap, "must be a string");
                ok = false;
                continue;
            }
            String arg = ((ScalarNode) a).getValue();
            if (arg.indexOf('\0') >= 0) {
                r.problem(a, ap, "must not contain a NUL character");
                ok = false;
            } else if (i == 0 && arg.isEmpty()) {
                r.problem(a, ap, "the program must not be empty");
                ok = false;
            } else if (i == 0 && arg.contains("/") && !arg.startsWith("/")) {
                r.problem(a, ap, "the program must be an absolute path or a bare name looked up in PATH;"
                        + " a relative path would depend on the agent's working directory");
                ok = false;
            }
            argv.add(arg);
        }
        return ok ? new Exec(argv, false) : null;
    }

    private Map<String, String> env(Fields cf) {
        Node n = cf.value("env");
        String path = cf.keyPath("env");
        if (n == null || ValueReader.isNull(n)) {
            if (n == null) cf.defaulted("env");
            else r.record(path, n);
            return Map.of();
        }
        r.record(path, n);
        if (!(n instanceof MappingNode)) {
            r.problem(n, path, "must be a mapping of NAME: value");
            return null;
        }
        Fields ef = r.fields(path, (MappingNode) n, null);
        Map<String, String> env = new LinkedHashMap<>();
        boolean ok = true;
        for (Map.Entry<String, NodeTuple> e : ef.byKey.entrySet()) {
            String name = e.getKey();
            Node key = e.getValue().getKeyNode();
            Node value = e.getValue().getValueNode();
            String vp = ef.keyPath(name);
            r.record(vp, value);
            if (!ENV_NAME.matcher(name).matches()) {
                r.problem(key, vp, "an environment variable name is letters, digits and '_', not starting with a digit");
                ok = false;
            } else if (name.startsWith("QUORUMD_")) {
                r.problem(key, vp, "QUORUMD_* variables are set by quorumd itself; choose another name");
                ok = false;
            } else if (!(value instanceof ScalarNode) || ValueReader.isNull(value)) {
                r.problem(value, vp, "must be a single value; write \"\" for an empty one");
                ok = false;
            } else if (((ScalarNode) value).getValue().indexOf('\0') >= 0) {
                r.problem(value, vp, "must not contain a NUL character");
                ok = false;
            } else {
                env.put(name, ((ScalarNode) value).getValue());
            }
        }
        return ok && ef.ok ? env : null;
    }

    private HooksConfig hooks(Fields top) {
        Fields hf = r.section(top, "hooks", HOOKS_KEYS, "a mapping with on_master, on_follower, fence or timeout");
        if (hf == null || hf.absent) return null;
        Path onMaster = r.absolutePath(hf, "on_master", null, "an absolute path to an executable file");
        Path onFollower = r.absolutePath(hf, "on_follower", null, "an absolute path to an executable file");
        Path fence = r.absolutePath(hf, "fence", null, "an absolute path to an executable file");
        Duration timeout = r.duration(hf, "timeout", HooksConfig.DEFAULT_TIMEOUT, false);
        if ((hf.has("on_master") && onMaster == null) || (hf.has("on_follower") && onFollower == null)
                || (hf.has("fence") && fence == null) || timeout == null) return null;
        return new HooksConfig(onMaster, onFollower, fence, timeout);
    }

    private MetricsConfig metrics(Fields top) {
        Fields mf = r.section(top, "metrics", METRICS_KEYS, "a mapping with listen: HOST:PORT");
        if (mf == null || mf.absent) return null;
        String expected = "an IP address and a port, such as 127.0.0.1:9851 or [::1]:9851";
        String s = r.string(mf, "listen", null, expected);
        if (s == null) return null;
        Node n = mf.value("listen");
        String path = mf.keyPath("listen");
        int colon = s.lastIndexOf(':');
        String host = colon > 0 ? s.substring(0, colon) : null;
        String portText = colon > 0 ? s.substring(colon + 1) : null;
        if (host != null && host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host != null && host.indexOf(':') >= 0) {
            r.problem(n, path, "an IPv6 address goes in brackets: [::1]:9851");
            return null;
        }
        if (host == null || portText.isEmpty()) {
            r.problem(n, path, "must be " + expected);
            return null;
        }
        if (Hosts.ipLiteral(host) == null) {
            r.problem(n, path, "the host must be an IP address of this host (" + expected + "), not a host name");
            return null;
        }
        int port;
        try {
            port = portText.matches("[0-9]{1,5}") ? Integer.parseInt(portText) : -1;
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            r.problem(n, path, "the port must be a number from 1 to 65535");
            return null;
        }
        return new MetricsConfig(host, port);
    }

    private SelfFenceConfig selfFence(Fields top) {
        Fields sf = r.section(top, "self_fence", SELF_FENCE_KEYS, "a mapping with mode and device");
        if (sf == null) return null;
        if (sf.absent) return SelfFenceConfig.off();
        SelfFenceConfig.Mode mode = r.parsed(sf, "mode", SelfFenceConfig.Mode.OFF, SelfFenceConfig.Mode::parse,
                "off, auto or required");
        Path device = r.absolutePath(sf, "device", SelfFenceConfig.DEFAULT_DEVICE, "an absolute path to a watchdog device");
        if (mode == null || device == null) return null;
        return new SelfFenceConfig(mode, device);
    }

    private KvConfig kv(Fields top) {
        Fields kf = r.section(top, "kv", KV_KEYS, "a mapping with max_bytes: SIZE and snapshot_entries: N");
        if (kf == null) return null;
        if (kf.absent) return KvConfig.defaults();
        String expected = "a size such as 512KiB, 64MiB or 1GiB";
        String s = r.string(kf, "max_bytes", KvConfig.formatSize(KvConfig.DEFAULT_MAX_BYTES), expected);
        Integer entries = r.integer(kf, "snapshot_entries", KvConfig.DEFAULT_SNAPSHOT_ENTRIES,
                KvConfig.MIN_SNAPSHOT_ENTRIES, KvConfig.MAX_SNAPSHOT_ENTRIES,
                "a whole number of log entries from " + KvConfig.MIN_SNAPSHOT_ENTRIES + " to " + KvConfig.MAX_SNAPSHOT_ENTRIES);
        if (s == null || entries == null) return null;
        long bytes = KvConfig.DEFAULT_MAX_BYTES;
        if (kf.has("max_bytes")) {
            try {
                bytes = KvConfig.parseSize(s.trim());
            } catch (IllegalArgumentException e) {
                r.problem(kf.value("max_bytes"), kf.keyPath("max_bytes"), "must be " + expected + ": " + e.getMessage());
                return null;
            }
            if (bytes < KvConfig.MIN_MAX_BYTES) {
                r.problem(kf.value("max_bytes"), kf.keyPath("max_bytes"), "must be at least 1KiB");
                return null;
            }
        }
        return new KvConfig(bytes, entries);
    }

    private Path controlSocket(Fields top) {
        Path p = r.absolutePath(top, "control_socket", Config.DEFAULT_CONTROL_SOCKET, "an absolute path");
        if (p != null && p.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
            r.problem(top.value("control_socket"), "control_socket", "a Unix socket path is at most "
                    + MAX_SOCKET_PATH_BYTES + " bytes; choose a shorter one");
            return null;
        }
        return p;
    }

    private String host(Fields f) {
        String s = r.string(f, "host", null, "a host name or an IP address");
        if (s == null) return null;
        String wrong = Hosts.hostProblem(s);
        if (wrong != null) {
            r.problem(f.value("host"), f.keyPath("host"), wrong);
            return null;
        }
        return s;
    }
}
