package io.quorumd.config;

import io.quorumd.core.Timing;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The resolved settings as YAML, every default written out, keys in SPEC's order: what
 * {@code quorumd check} prints. The output loads back ({@link ConfigLoader}) to an equal
 * {@link Config}, but for {@code command.env}'s values, which are printed as {@value #HIDDEN} (they
 * may hold secrets; their names are shown). What is derived rather than set (the master's lease,
 * what {@code bind: auto} resolved to, absent sections, trusted mode) appears as comments. The
 * key file's path is printed, never its contents.
 */
public final class ConfigPrinter {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_/][A-Za-z0-9_./@%+=-]*");
    // what a YAML 1.1 reader would take for a number
    private static final Pattern NUMBER_LIKE = Pattern.compile("0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*"
            + "|([0-9][0-9_]*)?\\.[0-9_]*([eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+"
            + "|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*");
    private static final Set<String> RESERVED = Set.of("y", "n", "yes", "no", "true", "false", "on", "off", "null");

    /** What {@code command.env}'s values are printed as. */
    public static final String HIDDEN = "<hidden>";

    private ConfigPrinter() {}

    public static String toYaml(Config c) {
        return toYaml(c, null);
    }

    /**
     * @param bind what {@link BindResolver} made of {@code bind}, added as a comment; may be null
     */
    public static String toYaml(Config c, ResolvedBind bind) {
        List<String> out = new ArrayList<>();
        out.add("# quorumd: resolved settings" + (c.source() != null ? " of " + c.source() : "")
                + ", defaults filled in");
        out.add("cluster: " + scalar(c.cluster()));
        out.add("node: " + scalar(c.node()));
        out.add("bind: " + scalar(c.bind()) + (bind != null ? "   # " + bind.description() : ""));
        SecurityConfig s = c.security();
        if (s == null) {
            out.add("# security: none; " + Config.TRUSTED_MODE_WARNING);
        } else {
            out.add("security:");
            out.add("  curve:");
            out.add("    key: " + path(s.curveKey()));
        }
        out.add("peers:");
        for (PeerConfig p : c.peers()) {
            out.add("  - id: " + scalar(p.id()));
            out.add("    host: " + scalar(p.host()));
            out.add("    port: " + p.port());
            out.add("    priority: " + p.priority());
            if (p.publicKey() != null) out.add("    public_key: " + quoted(p.publicKey()));
        }
        TimingConfig t = c.timing();
        out.add("timing:");
        out.add("  heartbeat: " + Durations.format(t.heartbeat()));
        out.add("  election_timeout: " + Durations.format(t.electionTimeout()));
        out.add("  clock_drift: " + percent(t.clockDrift()));
        out.add("  preempt_delay: " + (t.preemptDelay() == null ? quoted(TimingConfig.PREEMPT_OFF)
                + "   # a higher-priority peer never takes over a healthy master"
                : Durations.format(t.preemptDelay()) + "   # a healthy higher-priority peer takes over by hand-over after it"));
        out.add("  # the master's lease: " + lease(c) + " = election_timeout x (1 - clock_drift) / (1 + clock_drift)");
        CommandConfig cmd = c.command();
        if (cmd == null) {
            out.add("# command: none; quorumd elects a master and runs hooks only");
        } else {
            out.add("command:");
            if (cmd.shell()) {
                out.add("  exec: " + quoted(cmd.script()) + "   # run by /bin/sh -c");
            } else {
                List<String> args = new ArrayList<>();
                for (String a : cmd.argv()) args.add(quoted(a));
                out.add("  exec: [" + String.join(", ", args) + "]");
            }
            out.add(cmd.workdir() != null ? "  workdir: " + path(cmd.workdir())
                    : "  # workdir: not set; the command runs in /");
            List<String> env = new ArrayList<>();
            for (String name : cmd.env().keySet()) env.add(scalar(name) + ": " + HIDDEN);
            out.add("  env: {" + String.join(", ", env) + "}");
            out.add("  stop_signal: " + cmd.stopSignal().name());
            out.add("  stop_timeout: " + Durations.format(cmd.stopTimeout()));
            out.add("  restart: " + cmd.restart().yamlName());
            out.add("  max_restarts: " + cmd.maxRestarts());
            out.add("  restart_window: " + Durations.format(cmd.restartWindow()));
        }
        HooksConfig h = c.hooks();
        if (h == null) {
            out.add("# hooks: none");
        } else {
            out.add("hooks:");
            hook(out, "on_master", h.onMaster());
            hook(out, "on_follower", h.onFollower());
            hook(out, "fence", h.fence());
            out.add("  timeout: " + Durations.format(h.timeout()));
        }
        out.add("state_dir: " + path(c.stateDir()));
        out.add("control_socket: " + path(c.controlSocket()));
        out.add("kv:");
        out.add("  max_bytes: " + KvConfig.formatSize(c.kv().maxBytes()));
        out.add("  snapshot_entries: " + c.kv().snapshotEntries());
        out.add("log_level: " + scalar(c.logLevel()));
        if (c.metrics() == null) {
            out.add("# metrics: off");
        } else {
            out.add("metrics:");
            out.add("  listen: " + quoted(c.metrics().listen()));
        }
        out.add("self_fence:");
        out.add("  mode: " + quoted(c.selfFence().mode().yamlName()));
        out.add("  device: " + path(c.selfFence().device()));
        return String.join("\n", out) + "\n";
    }

    private static void hook(List<String> out, String key, Path p) {
        out.add(p != null ? "  " + key + ": " + path(p) : "  # " + key + ": not set");
    }

    /** {@code 1%}, {@code 0.5%}: the form the loader reads back to the same double. */
    static String percent(double fraction) {
        return BigDecimal.valueOf(fraction).movePointRight(2).stripTrailingZeros().toPlainString() + "%";
    }

    private static String lease(Config c) {
        TimingConfig t = c.timing();
        long nanos = new Timing(t.heartbeat().toNanos(), t.electionTimeout().toNanos(), t.clockDrift(), 0, 0).leaseNanos();
        BigDecimal ms = BigDecimal.valueOf(nanos).movePointLeft(6).setScale(3, RoundingMode.FLOOR);
        return ms.stripTrailingZeros().toPlainString() + "ms";
    }

    private static String path(Path p) {
        return scalar(p.toString());
    }

    /** Plain when every YAML reader takes it for this string, double-quoted otherwise. */
    static String scalar(String s) {
        if (PLAIN.matcher(s).matches() && !NUMBER_LIKE.matcher(s).matches()
                && !RESERVED.contains(s.toLowerCase(Locale.ROOT))) return s;
        return quoted(s);
    }

    static String quoted(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\t': b.append("\\t"); break;
                case '\r': b.append("\\r"); break;
                case 0: b.append("\\0"); break;
                default:
                    if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 || c == 0xFEFF
                            || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF) {
                        b.append(String.format(Locale.ROOT, "\\u%04X", c));
                    } else {
                        b.appendCodePoint(c);
                    }
            }
        });
        return b.append('"').toString();
    }
}
