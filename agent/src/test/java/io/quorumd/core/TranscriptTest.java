package io.quorumd.core;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Transcript tests in the style of etcd's datadriven {@code testdata/*.txt}: each file under
 * {@code src/test/resources/io/quorumd/core/transcripts} is a list of steps, each a command line,
 * {@code ----}, and what the nodes did during it (role changes, commands, hand-overs and every
 * trace: votes, refusals and why, clearance), one line each as {@code ms node what}. The world is
 * {@link NodeScenarioTest.World}: a perfect network (1 ms a frame), disks and commands that answer
 * in 1 ms.
 *
 * <p>Regenerate after an intended change with {@code -Dquorumd.transcripts.rewrite=true}, then
 * read the diff: it is the change in behaviour.
 *
 * <p>Commands: {@code cluster n=3 [priorities=P0,P1,P2] [preempt_delay=MS]} (a fresh cluster, every
 * node with a restart certificate; priorities default to 100, preemption to off);
 * {@code run until=MS}; {@code crash ID} (its agent dies, its host answers probes with a refusal);
 * {@code power-off ID} (the same, but its host is down: probes get silence); {@code restart ID} (from its disk, with the restart
 * certificate of its last command's term); {@code disk-fail ID} / {@code disk-ok ID} (every write
 * fails / works again); {@code cut ID} / {@code heal} (both ways, everyone);
 * {@code step-down ID [to=ID]} (answered by {@code StepDownDone #n}); {@code shutdown ID}; {@code stop-delay ID MS} (how long its command
 * takes to stop); {@code status} (each node's role, term and master).
 */
class TranscriptTest {
    static final Path DIR = Path.of("src/test/resources/io/quorumd/core/transcripts");
    static final boolean REWRITE = Boolean.getBoolean("quorumd.transcripts.rewrite");

    @TestFactory
    Stream<DynamicTest> transcripts() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(DIR)) {
            files = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        if (files.isEmpty()) throw new IllegalStateException("no transcripts in " + DIR.toAbsolutePath());
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)));
    }

    private static void check(Path file) throws IOException {
        String expected = Files.readString(file, StandardCharsets.UTF_8);
        String actual = replay(expected);
        if (REWRITE) {
            if (!actual.equals(expected)) Files.writeString(file, actual, StandardCharsets.UTF_8);
            return;
        }
        assertEquals(expected, actual, file + " differs: if the change is intended, regenerate with "
                + "-Dquorumd.transcripts.rewrite=true and review the diff");
    }

    /** Runs the commands of a transcript; returns it with every output block as it happens now. */
    static String replay(String transcript) {
        StringBuilder out = new StringBuilder();
        String[] lines = transcript.split("\n", -1);
        NodeScenarioTest.World w = null;
        int i = 0;
        while (i < lines.length) {
            String line = lines[i];
            if (line.isBlank() || line.startsWith("#")) {
                if (i < lines.length - 1 || !line.isEmpty()) out.append(line).append('\n');
                i++;
                continue;
            }
            // a command, then "----", then its old output up to a blank line (skipped: recomputed)
            i++;
            if (i < lines.length && lines[i].equals("----")) {
                i++;
                while (i < lines.length && !lines[i].isEmpty()) i++;
            }
            List<String> result = new ArrayList<>();
            w = run(w, line.trim(), result);
            out.append(line).append('\n').append("----\n");
            for (String r : result) out.append(r).append('\n');
            out.append('\n');
            if (i < lines.length && lines[i].isEmpty()) i++;
        }
        return out.toString();
    }

    private static NodeScenarioTest.World run(NodeScenarioTest.World w, String command, List<String> result) {
        String[] a = command.split("\\s+");
        if (a[0].equals("cluster")) {
            int n = Integer.parseInt(arg(a, "n", "3"));
            String prio = arg(a, "priorities", "");
            String preempt = arg(a, "preempt_delay", "");
            if (prio.isEmpty() && preempt.isEmpty()) return new NodeScenarioTest.World(n);
            int[] ps = new int[n];
            java.util.Arrays.fill(ps, 100);
            if (!prio.isEmpty()) {
                String[] xs = prio.split(",");
                if (xs.length != n) throw new IllegalArgumentException("priorities= needs " + n + " values: " + command);
                for (int k = 0; k < n; k++) ps[k] = Integer.parseInt(xs[k]);
            }
            return new NodeScenarioTest.World(ps, preempt.isEmpty() ? NodeConfig.PREEMPT_OFF
                    : Long.parseLong(preempt) * Timing.MS);
        }
        if (w == null) throw new IllegalArgumentException("'" + command + "' before 'cluster'");
        int from = w.log.size();
        switch (a[0]) {
            case "run" -> w.runUntil(Long.parseLong(arg(a, "until", null)) * Timing.MS);
            case "crash" -> w.crash(a[1]);
            case "power-off" -> {
                w.crash(a[1]);
                w.hostDown.add(a[1]);
            }
            case "restart" -> w.restart(a[1]);
            case "disk-fail" -> w.diskFailing.add(a[1]);
            case "disk-ok" -> w.diskFailing.remove(a[1]);
            case "cut" -> w.cut.add(a[1]);
            case "heal" -> {
                w.cut.clear();
                w.blocked.clear();
            }
            case "block" -> w.blocked.add(a[1]);   // one direction, as FROM>TO
            case "step-down" -> w.askStepDown(a[1], arg(a, "to", null));
            case "shutdown" -> w.deliver(a[1], new Event.ShutdownRequested());
            case "stop-delay" -> w.stopDelay.put(a[1], Long.parseLong(a[2]) * Timing.MS);
            case "status" -> {
                for (var e : w.nodes.entrySet()) {
                    Node n = e.getValue();
                    NodeView v = n.view(w.now);
                    result.add(e.getKey() + (w.up.get(e.getKey()) ? "" : " (down)") + " " + n.role().name().toLowerCase()
                            + " term " + n.term() + " master " + v.master() + (v.commandPermitted() ? " command running" : ""));
                }
            }
            default -> throw new IllegalArgumentException("unknown command '" + command + "'");
        }
        result.addAll(0, w.log.subList(from, w.log.size()));
        return w;
    }

    private static String arg(String[] a, String key, String dflt) {
        for (String s : a) if (s.startsWith(key + "=")) return s.substring(key.length() + 1);
        if (dflt == null && !key.equals("to")) throw new IllegalArgumentException("missing " + key + "=");
        return dflt;
    }
}
