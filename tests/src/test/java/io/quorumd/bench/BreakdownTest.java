package io.quorumd.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The step-down and SIGTERM breakdown reads the agents' own log lines: each milestone is found
 * in the right node's log, for the right terms, ms after the fault (a changed log line shows here,
 * not as an empty row in a bench report).
 */
class BreakdownTest {
    private static final DateTimeFormatter HMS = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final long FAULT_MS = 1_800_000_000_000L;

    private static String at(long msAfterFault, String level, String logger, String message) {
        LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochMilli(FAULT_MS + msAfterFault), ZoneId.systemDefault());
        return HMS.format(t) + " " + level + " " + logger + " - " + message;
    }

    @Test
    void everyHandOverMilestoneIsReadFromItsNodesLog(@TempDir Path dir) throws Exception {
        List<String> n1 = new ArrayList<>(List.of(
                at(-500, "INFO", "Agent", "handing over to n2: asking it to campaign (term 2)"),   // before the fault: ignored
                at(1, "INFO", "Cli", "shutdown requested (SIGTERM, SIGINT or the JVM exiting)"),
                at(2, "INFO", "Agent", "stopping: the command, the hand-over and the hooks have up to 12000 ms"),
                at(3, "INFO", "Supervisor", "stopping command command.sh[4242] of term 3: agent shutting down"),
                at(5, "INFO", "Supervisor", "command command.sh[4242] of term 3 ended on stop: exit status 0"),
                at(8, "DEBUG", "Supervisor", "process group 4242 of term 3 is empty: recording it"),
                at(12, "INFO", "Supervisor", "command command.sh of term 3 stopped: process group 4242 is empty"),
                at(14, "INFO", "Agent", "handing over to n2: asking it to campaign (term 3)"),
                at(40, "INFO", "Agent", "n1: stopped")));
        List<String> n2 = List.of(
                at(17, "DEBUG", "Agent", "hand-over from n1 of term 3 received"),
                at(18, "INFO", "Agent", "candidate in term 4: hand-over from n1: campaigning in term 4"),
                at(25, "DEBUG", "Agent", "term 4 and vote persisted (write 7)"),
                at(33, "DEBUG", "Agent", "vote of n3 in term 4 received: granted"),
                at(34, "INFO", "Agent", "became master in term 4: 2 of 3 votes"),
                at(35, "INFO", "Agent", "cleared to start the command in term 4 by hand-over from n1 (master in term 3)"),
                at(46, "DEBUG", "Agent", "lease of term 4 holds: a majority echoed"),
                at(47, "DEBUG", "Agent", "starting the command of term 4"),
                at(60, "DEBUG", "Supervisor", "start of term 4 recorded: spawning the watchdog and the wrapper"),
                at(90, "DEBUG", "Supervisor", "wrapper 5151 of term 4 ready"),
                at(92, "INFO", "Supervisor", "command command.sh started: pid/pgid 5151, term 4, watchdog 5150"));
        List<String> n3 = List.of(
                at(26, "DEBUG", "Agent", "term 3 and vote persisted (write 2)"),   // another term: not the vote
                at(30, "DEBUG", "Agent", "term 4 and vote persisted (write 3)"));
        Map<String, Path> logs = new LinkedHashMap<>();
        logs.put("n1", Files.write(dir.resolve("n1.log"), n1));
        logs.put("n2", Files.write(dir.resolve("n2.log"), n2));
        logs.put("n3", Files.write(dir.resolve("n3.log"), n3));

        Map<String, Double> m = Breakdown.handOver(FAULT_MS * 1000, (FAULT_MS + 94) * 1000, 6.5, (FAULT_MS + 70) * 1000,
                "n1", 3, "n2", 4, logs);

        Map<String, Double> want = new LinkedHashMap<>();
        want.put("request", 1.0);
        want.put("loop_stopping", 2.0);
        want.put("stop_signal", 3.0);
        want.put("leader_exited", 5.0);
        want.put("group_empty", 8.0);
        want.put("stop_recorded", 12.0);
        want.put("handover_sent", 14.0);
        want.put("handover_received", 17.0);
        want.put("campaign", 18.0);
        want.put("own_vote_persisted", 25.0);
        want.put("voter_persisted", 30.0);
        want.put("vote_received", 33.0);
        want.put("elected", 34.0);
        want.put("cleared", 35.0);
        want.put("lease", 46.0);
        want.put("start_issued", 47.0);
        want.put("start_recorded", 60.0);
        want.put("wrapper_ready", 90.0);
        want.put("command_started", 92.0);
        want.put("command_record", 94.0);
        want.put("old_group_empty_seen", 6.5);
        want.put("old_loop_stopped", 40.0);
        want.put("old_jvm_exit", 70.0);
        for (Map.Entry<String, Double> e : want.entrySet())
            assertEquals(e.getValue(), m.get(e.getKey()), 0.001, e.getKey() + " in " + m);
        assertTrue(Breakdown.HAND_OVER.containsAll(m.keySet().stream().filter(k -> !Breakdown.HAND_OVER_SIDE.contains(k)).toList()),
                "every milestone has its row: " + m.keySet());
        for (String k : m.keySet()) assertTrue(Breakdown.LABELS.containsKey(k), "a label for " + k);
    }
}
