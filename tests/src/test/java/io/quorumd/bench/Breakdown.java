package io.quorumd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Where a kill -9 + restart fail-over's time goes: milestones read from the agents' logs (lines
 * start with {@code HH:mm:ss.SSS}, the local clock of this one machine, ms resolution) and from the
 * bench's own instants, each in ms after the kill. The restart branch and the election branch run
 * side by side; the new master is cleared once it is elected and holds the restarted agent's
 * certificate (or once the old lease and stop_timeout have passed).
 */
final class Breakdown {
    /** Milestones in the order of the restart branch, then the election branch, then the command. */
    static final List<String> RESTART = List.of("spawned", "main", "config_loaded", "certificate", "transport_bound",
            "pub_accepted", "pub_greeting", "zap_admitted", "first_keepalive", "heard_by_survivor", "heard_by_new_master");
    static final List<String> ELECTION = List.of("refusal_seen", "campaign", "elected");
    static final List<String> COMMAND = List.of("cleared", "command_started", "command_record");

    static final Map<String, String> LABELS = new LinkedHashMap<>();

    static {
        LABELS.put("spawned", "restarted process spawned (bench: ProcessBuilder.start returned; 100 ms RestartSec before it)");
        LABELS.put("main", "restarted JVM in main() (launcher script + JVM start, CDS archive mapped)");
        LABELS.put("config_loaded", "config loaded and checked, logging on (\"main() entered ...\" line)");
        LABELS.put("certificate", "restart certificate made (old command's group seen empty)");
        LABELS.put("transport_bound", "ZMQ sockets bound (\"transport of ... listening\")");
        LABELS.put("first_keepalive", "first keep-alive published (control socket ready before it)");
        LABELS.put("pub_accepted", "first peer's SUB connection accepted on its PUB");
        LABELS.put("pub_greeting", "first peer's SUB past the ZMTP greeting on its PUB");
        LABELS.put("zap_admitted", "first peer connection admitted by its ZAP handler (CURVE HELLO + INITIATE done)");
        LABELS.put("heard_by_survivor", "a survivor hears it again (\"peer ... heard again\")");
        LABELS.put("heard_by_new_master", "the new master hears it again (carries the certificate)");
        LABELS.put("refusal_seen", "a survivor's probe is refused (\"peer ... refused a connection\")");
        LABELS.put("campaign", "the new master's winning campaign starts");
        LABELS.put("elected", "election won (\"became master in term\")");
        LABELS.put("cleared", "new master cleared to start the command");
        LABELS.put("command_started", "command started (watchdog + wrapper spawned, armed, go sent)");
        LABELS.put("command_record", "command's start record (its first line, EPOCHREALTIME)");
    }

    /**
     * Step-down and SIGTERM: one chain, the old master's part then the successor's (the voter's
     * write sits between the successor's own write and the vote's arrival).
     */
    static final List<String> HAND_OVER = List.of("request", "loop_stopping", "stop_signal", "leader_exited", "group_empty",
            "stop_recorded", "handover_sent", "handover_received", "campaign", "own_vote_persisted", "voter_persisted",
            "vote_received", "elected", "cleared", "lease", "start_issued", "start_recorded", "wrapper_ready",
            "command_started", "command_record");
    /** Off the critical path: the old agent's JVM exit (SIGTERM), the observer's sight of the old group empty. */
    static final List<String> HAND_OVER_SIDE = List.of("old_group_empty_seen", "old_loop_stopped", "old_jvm_exit");

    static {
        LABELS.put("request", "old: request received (\"step-down requested\", control thread) / SIGTERM hook (\"shutdown requested\")");
        LABELS.put("loop_stopping", "old: the loop takes the shutdown (\"stopping: ...\", sd_notify STOPPING; SIGTERM only)");
        LABELS.put("stop_signal", "old: stop signal sent to the command's group (\"stopping command\")");
        LABELS.put("leader_exited", "old: the command's leader reaped (\"ended on stop\")");
        LABELS.put("group_empty", "old: its process group seen empty (debug \"is empty: recording it\")");
        LABELS.put("stop_recorded", "old: command.state \"stopped\" written and fsynced (\"stopped: process group ... is empty\")");
        LABELS.put("handover_sent", "old: resigned, hand-over request sent (\"handing over to\")");
        LABELS.put("handover_received", "new: hand-over received by the loop (debug)");
        LABELS.put("campaign", "new: campaign (\"candidate in term\")");
        LABELS.put("own_vote_persisted", "new: its term and vote fsynced (debug \"persisted\"); vote requests go out");
        LABELS.put("voter_persisted", "voter: the first granting voter's term and vote fsynced (its answer goes out)");
        LABELS.put("vote_received", "new: that vote received (debug)");
        LABELS.put("elected", "new: election won (\"became master in term\")");
        LABELS.put("lease", "new: lease holds: a majority echoed its first keep-alive (debug)");
        LABELS.put("cleared", "new: cleared to start the command (hand-over proof)");
        LABELS.put("start_issued", "new: StartCommand to the supervisor (debug)");
        LABELS.put("start_recorded", "new: command.state \"starting\" written and fsynced (debug)");
        LABELS.put("wrapper_ready", "new: watchdog + wrapper spawned, wrapper ready (debug)");
        LABELS.put("command_started", "new: watchdog armed, go sent (\"command ... started\")");
        LABELS.put("old_group_empty_seen", "observer: the old group empty (/proc poll, 2 ms)");
        LABELS.put("old_loop_stopped", "old: the loop ended (\"stopped\"; SIGTERM)");
        LABELS.put("old_jvm_exit", "old: the agent's JVM exited (bench: Process.onExit; SIGTERM)");
    }

    private Breakdown() {}

    /**
     * The milestones of one step-down or SIGTERM trial, ms after the fault (NaN when the log has
     * no such line; the debug ones need {@code --log-level debug}).
     */
    static Map<String, Double> handOver(long faultEpochMicros, long recordEpochMicros, double oldEmptySeenMs, long jvmExitEpochMicros,
                                        String old, long oldTerm, String newMaster, long newTerm, Map<String, Path> logs)
            throws IOException {
        long faultMillis = faultEpochMicros / 1000;
        double f = faultEpochMicros / 1000.0;
        Map<String, List<Line>> lines = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : logs.entrySet()) lines.put(e.getKey(), read(e.getValue(), faultMillis));
        List<Line> o = lines.getOrDefault(old, List.of());
        List<Line> n = lines.getOrDefault(newMaster, List.of());
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("request", at(first(o, s -> s.startsWith("step-down requested") || s.startsWith("shutdown requested")), f));
        m.put("loop_stopping", at(first(o, s -> s.startsWith("stopping: the command, the hand-over")), f));
        String ofTerm = " of term " + oldTerm;
        m.put("stop_signal", at(first(o, s -> s.startsWith("stopping command ") && s.contains(ofTerm + ":")), f));
        m.put("leader_exited", at(first(o, s -> s.startsWith("command ") && s.contains(ofTerm + " ended on stop")), f));
        m.put("group_empty", at(first(o, s -> s.startsWith("process group ") && s.endsWith(ofTerm + " is empty: recording it")), f));
        m.put("stop_recorded", at(first(o, s -> s.startsWith("command ") && s.contains(ofTerm + " stopped: process group")), f));
        m.put("handover_sent", at(first(o, s -> s.startsWith("handing over to " + newMaster + ":")), f));
        m.put("handover_received", at(first(n, s -> s.startsWith("hand-over from " + old + " of term")), f));
        m.put("campaign", at(first(n, s -> s.startsWith("candidate in term " + newTerm + ":")), f));
        m.put("own_vote_persisted", at(first(n, s -> s.startsWith("term " + newTerm + " and vote persisted")), f));
        Line vote = first(n, s -> s.startsWith("vote of ") && s.contains(" in term " + newTerm + " received: granted"));
        double voterPersisted = Double.NaN;
        if (vote != null) {
            String voter = vote.message().substring("vote of ".length(), vote.message().indexOf(" in term "));
            voterPersisted = at(first(lines.getOrDefault(voter, List.of()), s -> s.startsWith("term " + newTerm + " and vote persisted")), f);
        }
        m.put("voter_persisted", voterPersisted);
        m.put("vote_received", at(vote, f));
        m.put("elected", at(first(n, s -> s.startsWith("became master in term " + newTerm + ":")), f));
        m.put("lease", at(first(n, s -> s.startsWith("lease of term " + newTerm + " holds")), f));
        m.put("cleared", at(first(n, s -> s.startsWith("cleared to start the command in term " + newTerm + " ")), f));
        m.put("start_issued", at(first(n, s -> s.startsWith("starting the command of term " + newTerm)), f));
        m.put("start_recorded", at(first(n, s -> s.startsWith("start of term " + newTerm + " recorded")), f));
        m.put("wrapper_ready", at(first(n, s -> s.startsWith("wrapper ") && s.endsWith(" of term " + newTerm + " ready")), f));
        m.put("command_started", at(first(n, s -> s.startsWith("command ") && s.contains(" started: pid/pgid ")
                && s.contains(", term " + newTerm + ",")), f));
        m.put("command_record", recordEpochMicros < 0 ? Double.NaN : recordEpochMicros / 1000.0 - f);
        m.put("old_group_empty_seen", oldEmptySeenMs);
        m.put("old_loop_stopped", at(first(o, s -> s.endsWith(": stopped")), f));
        m.put("old_jvm_exit", jvmExitEpochMicros < 0 ? Double.NaN : jvmExitEpochMicros / 1000.0 - f);
        return m;
    }

    /** One log line: its instant (epoch ms) and its message (after " - "). */
    record Line(long epochMillis, String message) {}

    /**
     * The milestones of one trial, ms after the kill (NaN when the log has no such line).
     *
     * @param killEpochMicros    real-time instant just before the signal
     * @param spawnedEpochMicros real-time instant just after the restarted process was spawned, or -1
     * @param logs               every member's log, by node id
     */
    static Map<String, Double> of(long killEpochMicros, long spawnedEpochMicros, long recordEpochMicros, String old,
                                  String newMaster, long newTerm, Map<String, Path> logs) throws IOException {
        long killMillis = killEpochMicros / 1000;
        Map<String, List<Line>> lines = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : logs.entrySet()) lines.put(e.getKey(), read(e.getValue(), killMillis));
        Map<String, Double> m = new LinkedHashMap<>();
        double kill = killEpochMicros / 1000.0;
        m.put("spawned", spawnedEpochMicros < 0 ? Double.NaN : spawnedEpochMicros / 1000.0 - kill);
        List<Line> o = lines.getOrDefault(old, List.of());
        Line mainLine = first(o, s -> s.startsWith("main() entered at epoch ms "));
        double mainMs = Double.NaN;
        if (mainLine != null) {
            String rest = mainLine.message().substring("main() entered at epoch ms ".length());
            mainMs = Long.parseLong(rest.substring(0, rest.indexOf(';'))) - kill;
        }
        m.put("main", mainMs);
        m.put("config_loaded", at(mainLine, kill));
        m.put("certificate", at(first(o, s -> s.startsWith("restart certificate: ")), kill));
        m.put("transport_bound", at(first(o, s -> s.startsWith("transport of " + old + " listening")), kill));
        m.put("first_keepalive", at(first(o, s -> s.startsWith("first keep-alive ")), kill));
        m.put("pub_accepted", at(first(o, s -> s.startsWith("keep-alive PUB: first connection accepted")), kill));
        m.put("pub_greeting", at(first(o, s -> s.startsWith("keep-alive PUB: first connection past its ZMTP greeting")), kill));
        m.put("zap_admitted", at(first(o, s -> s.startsWith("ZAP: first connection admitted")), kill));
        double survivor = Double.NaN;
        double refusal = Double.NaN;
        for (Map.Entry<String, List<Line>> e : lines.entrySet()) {
            if (e.getKey().equals(old)) continue;
            survivor = min(survivor, at(first(e.getValue(), s -> s.startsWith("peer " + old + " heard again")), kill));
            refusal = min(refusal, at(first(e.getValue(), s -> s.startsWith("peer " + old + " refused a connection")), kill));
        }
        m.put("heard_by_survivor", survivor);
        List<Line> n = newMaster == null ? List.of() : lines.getOrDefault(newMaster, List.of());
        m.put("heard_by_new_master", old.equals(newMaster) ? Double.NaN
                : at(first(n, s -> s.startsWith("peer " + old + " heard again")), kill));
        m.put("refusal_seen", refusal);
        m.put("campaign", at(first(n, s -> s.startsWith("candidate in term " + newTerm + ":")), kill));
        m.put("elected", at(first(n, s -> s.startsWith("became master in term " + newTerm + ":")), kill));
        Line cleared = first(n, s -> s.startsWith("cleared to start the command in term " + newTerm + " "));
        m.put("cleared", at(cleared, kill));
        m.put("command_started", at(first(n, s -> s.startsWith("command ") && s.contains(" started: pid/pgid ")
                && s.contains(", term " + newTerm + ",")), kill));
        m.put("command_record", recordEpochMicros < 0 ? Double.NaN : recordEpochMicros / 1000.0 - kill);
        return m;
    }

    /** What cleared the new master, from its log ("by restart certificate of n1 ..."), or "". */
    static String clearedBy(String newMaster, long newTerm, Map<String, Path> logs, long killEpochMicros) throws IOException {
        Path p = logs.get(newMaster);
        if (p == null) return "";
        Line l = first(read(p, killEpochMicros / 1000), s -> s.startsWith("cleared to start the command in term " + newTerm + " "));
        if (l == null) return "";
        int i = l.message().indexOf(" by ");
        return i < 0 ? "" : l.message().substring(i + 4);
    }

    private static double min(double a, double b) {
        if (Double.isNaN(a)) return b;
        if (Double.isNaN(b)) return a;
        return Math.min(a, b);
    }

    private static double at(Line l, double kill) {
        return l == null ? Double.NaN : l.epochMillis() - kill;
    }

    private static Line first(List<Line> lines, Predicate<String> p) {
        for (Line l : lines) if (p.test(l.message())) return l;
        return null;
    }

    /** The lines stamped at or after {@code fromMillis} (less 1 ms: stamps are truncated to the ms). */
    static List<Line> read(Path log, long fromMillis) throws IOException {
        List<Line> out = new ArrayList<>();
        if (!Files.exists(log)) return out;
        ZoneId zone = ZoneId.systemDefault();
        LocalDateTime ref = LocalDateTime.ofInstant(java.time.Instant.ofEpochMilli(fromMillis), zone);
        LocalDate day = ref.toLocalDate();
        for (String s : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            if (s.length() < 13 || s.charAt(2) != ':' || s.charAt(12) != ' ') continue;
            LocalTime t;
            try {
                t = LocalTime.parse(s.substring(0, 12));
            } catch (DateTimeParseException e) {
                continue;
            }
            LocalDateTime dt = LocalDateTime.of(day, t);
            // a line stamped just after midnight, when the kill was just before it
            if (dt.isBefore(ref.minusHours(12))) dt = dt.plusDays(1);
            long ms = dt.atZone(zone).toInstant().toEpochMilli();
            if (ms < fromMillis - 1) continue;
            int dash = s.indexOf(" - ");
            out.add(new Line(ms, dash < 0 ? s.substring(13) : s.substring(dash + 3)));
        }
        return out;
    }

    /** The report's table: each milestone's time after the kill and the step from the one before it. */
    static void markdown(StringBuilder r, List<FailoverBench.Sample> samples) {
        List<FailoverBench.Sample> ok = samples.stream().filter(s -> s.ok() && s.milestones() != null && !s.milestones().isEmpty()).toList();
        if (ok.isEmpty()) return;
        if (ok.get(0).scenario() != FailoverBench.Scenario.KILL_RESTART) {
            handOverMarkdown(r, ok);
            return;
        }
        r.append("### Kill -9 + restart: where the time goes (").append(ok.size()).append(" trials)\n\n");
        r.append("Milestones from the agents' logs (ms stamps, one machine's clock) and the bench's own instants; ms after the kill. ")
                .append("*Step* is, per trial, the time from the milestone on the row above (same branch) to this one (negative: the two ran side by side). ")
                .append("The restart branch and the election branch run side by side: the new master is cleared once it is elected ")
                .append("and has heard the restarted agent's restart certificate (or the old lease plus `stop_timeout` has passed).\n\n");
        r.append("| branch | milestone | n | after kill p50 | after kill max | step p50 | step max |\n|---|---|---|---|---|---|---|\n");
        row(r, "restart", RESTART, ok, null);
        row(r, "election", ELECTION, ok, null);
        row(r, "command", COMMAND, ok, "critical");
        Map<String, Integer> by = new LinkedHashMap<>();
        for (FailoverBench.Sample s : ok) {
            String b = s.clearedBy() == null || s.clearedBy().isEmpty() ? "?" : s.clearedBy().replaceAll(" of n\\d.*", "");
            by.merge(b, 1, Integer::sum);
        }
        r.append("\nCleared by: ").append(by).append(". For *cleared*, the step is from the later of *elected* and *the new master hears ")
                .append("it again* (the certificate's arrival; when the restarted agent itself won, from *elected*).\n\n");
    }

    /** Step-down or SIGTERM: the chain's rows, each step from the row above that this trial has. */
    static void handOverMarkdown(StringBuilder r, List<FailoverBench.Sample> ok) {
        FailoverBench.Scenario sc = ok.get(0).scenario();
        r.append("### ").append(sc.what).append(": where the time goes (").append(ok.size()).append(" trials)\n\n");
        r.append("Milestones from the agents' logs (ms stamps, one machine's clock; the debug ones need `--log-level debug`) ")
                .append("and the bench's own instants; ms after the fault. *Step* is, per trial, the time from the nearest milestone ")
                .append("above that the trial has (rows without a line are skipped).\n\n");
        r.append("| milestone | n | after fault p50 | after fault max | step p50 | step max |\n|---|---|---|---|---|---|\n");
        for (List<String> keys : List.of(HAND_OVER, HAND_OVER_SIDE)) {
            for (int i = 0; i < keys.size(); i++) {
                String k = keys.get(i);
                List<Double> at = new ArrayList<>();
                List<Double> step = new ArrayList<>();
                for (FailoverBench.Sample s : ok) {
                    Map<String, Double> m = s.milestones();
                    double v = m.getOrDefault(k, Double.NaN);
                    at.add(v);
                    double from = 0;
                    if (keys == HAND_OVER) {
                        for (int j = i - 1; j >= 0; j--) {
                            double p = m.getOrDefault(keys.get(j), Double.NaN);
                            if (!Double.isNaN(p)) {
                                from = p;
                                break;
                            }
                        }
                    }
                    step.add(v - from);
                }
                Stats a = Stats.of(at);
                if (a.n() == 0) continue;
                Stats st = Stats.of(step);
                r.append("| ").append(LABELS.get(k)).append(" | ").append(a.n()).append(" | ")
                        .append(Stats.ms(a.p50())).append(" | ").append(Stats.ms(a.max())).append(" | ")
                        .append(keys == HAND_OVER ? Stats.ms(st.p50()) : "").append(" | ")
                        .append(keys == HAND_OVER ? Stats.ms(st.max()) : "").append(" |\n");
            }
        }
        r.append('\n');
    }

    private static void row(StringBuilder r, String branch, List<String> keys, List<FailoverBench.Sample> ok, String mode) {
        String prev = null;
        for (String k : keys) {
            List<Double> at = new ArrayList<>();
            List<Double> step = new ArrayList<>();
            for (FailoverBench.Sample s : ok) {
                Map<String, Double> m = s.milestones();
                double v = m.getOrDefault(k, Double.NaN);
                at.add(v);
                double from;
                if (prev != null) {
                    from = m.getOrDefault(prev, Double.NaN);
                } else if (mode != null) {
                    double heard = m.getOrDefault("heard_by_new_master", Double.NaN);
                    double elected = m.getOrDefault("elected", Double.NaN);
                    from = Double.isNaN(heard) ? elected : Math.max(heard, elected);
                } else {
                    from = 0;
                }
                step.add(v - from);
            }
            Stats a = Stats.of(at);
            Stats st = Stats.of(step);
            r.append("| ").append(branch).append(" | ").append(LABELS.get(k)).append(" | ").append(a.n()).append(" | ")
                    .append(Stats.ms(a.p50())).append(" | ").append(Stats.ms(a.max())).append(" | ")
                    .append(Stats.ms(st.p50())).append(" | ").append(Stats.ms(st.max())).append(" |\n");
            prev = k;
        }
    }

    static String brief(Map<String, Double> m) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Double> e : m.entrySet()) {
            if (Double.isNaN(e.getValue())) continue;
            if (sb.length() > 0) sb.append(' ');
            sb.append(e.getKey()).append('=').append(String.format(Locale.ROOT, "%.0f", e.getValue()));
        }
        return sb.toString();
    }
}
