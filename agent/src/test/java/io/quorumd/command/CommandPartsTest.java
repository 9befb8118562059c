package io.quorumd.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command package's parts that need no process: exit statuses, the children's environment,
 * the restart policy's spelling, the records the restart certificate reads, the service cgroup's
 * process list, the command's short name and the back-off's bounds. Fast, so that PIT's mutants
 * of these parts are settled here before the process tests run.
 */
class CommandPartsTest {
    @TempDir Path dir;

    @Test
    void exitStatusesAbove128AreSignalsUpTo64() {
        assertEquals("exit status 0", Exits.describe(0));
        assertEquals("exit status 128", Exits.describe(128));
        assertEquals("killed by signal 1 (exit status 129)", Exits.describe(129));
        assertEquals("killed by signal 64 (exit status 192)", Exits.describe(192));
        assertEquals("exit status 193", Exits.describe(193));
    }

    @Test
    void theChildrensEnvironmentHasExactlyTheSpecsVariables() {
        assertThrows(IllegalArgumentException.class, () -> new BaseEnv(null, "n", List.of()));
        assertThrows(IllegalArgumentException.class, () -> new BaseEnv("c", null, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new BaseEnv("c", "n", null));
        BaseEnv base = new BaseEnv("payments", "node-a", List.of("node-a", "node-b"));
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/bin", "QUORUMD_OLD", "x", "NOTIFY_SOCKET", "/run/s",
                "WATCHDOG_USEC", "1"));
        base.applyTo(env, Map.of("EXTRA", "1", "QUORUMD_TERM", "99"), "master", 7, null);
        assertEquals(Map.of("PATH", "/bin", "EXTRA", "1", "QUORUMD_CLUSTER", "payments", "QUORUMD_NODE", "node-a",
                "QUORUMD_TERM", "7", "QUORUMD_MASTER", "", "QUORUMD_ROLE", "master", "QUORUMD_PEERS", "node-a,node-b"), env);
        assertEquals("node-b", base.variables("follower", 8, "node-b").get("QUORUMD_MASTER"));
    }

    @Test
    void theRestartPolicyIsSpelledAsInTheConfig() {
        for (RestartPolicy p : RestartPolicy.values()) assertEquals(p, RestartPolicy.parse(p.yamlName()));
        assertEquals("on-failure", RestartPolicy.ON_FAILURE.yamlName());
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> RestartPolicy.parse("ON_FAILURE"));
        assertEquals("must be never, on-failure or always", x.getMessage());
    }

    @Test
    void theCommandRecordRoundTripsAndAGarbledOneIsAnError() throws Exception {
        assertNull(CommandRecord.read(dir));
        Host host = new Host("boot-9", "/system.slice/q.service", null, 1);
        CommandRecord r = CommandRecord.starting(12, "run-7", host);
        r.write(dir);
        assertEquals(new CommandRecord("starting", 12, "run-7", "boot-9", "/system.slice/q.service"), CommandRecord.read(dir));
        r.stopped().write(dir);
        assertEquals("stopped", CommandRecord.read(dir).state());
        assertEquals(List.of(CommandRecord.STATE_FILE), names());

        Files.writeString(dir.resolve(CommandRecord.STATE_FILE), "state=running\nterm=1\n");
        IOException s = assertThrows(IOException.class, () -> CommandRecord.read(dir));
        assertTrue(s.getMessage().endsWith("state is 'running', not starting or stopped"), s.getMessage());
        Files.writeString(dir.resolve(CommandRecord.STATE_FILE), "state=stopped\nterm=x\n=y\n");
        IOException t = assertThrows(IOException.class, () -> CommandRecord.read(dir));
        assertTrue(t.getMessage().endsWith("term is not a number (got 'x')"), t.getMessage());
    }

    private List<String> names() throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aGroupIdCountsOnlyForItsRunAndAboveOne() throws Exception {
        assertEquals(-1, CommandRecord.readPgid(dir, "r1"), "no file");
        Path f = dir.resolve(CommandRecord.PGID_FILE);
        Files.writeString(f, "pgid=4242 run=r1\n");
        assertEquals(4242, CommandRecord.readPgid(dir, "r1"));
        assertEquals(-1, CommandRecord.readPgid(dir, "r2"), "another run's");
        Files.writeString(f, "pgid=2 run=r1\n");
        assertEquals(2, CommandRecord.readPgid(dir, "r1"));
        Files.writeString(f, "pgid=1 run=r1\n");
        assertEquals(-1, CommandRecord.readPgid(dir, "r1"), "init is never a command's group");
        Files.writeString(f, "pgid=x run=r1\n");
        assertEquals(-1, CommandRecord.readPgid(dir, "r1"));
        Files.writeString(dir.resolve(CommandRecord.PGID_FILE + ".tmp"), "pgid=5 run=r1\n");
        CommandRecord.clearPgid(dir);
        assertEquals(List.of(), names());
    }

    @Test
    void theServiceCgroupsOtherProcessesAreListedWithoutTheAgent() throws Exception {
        Path sys = dir.resolve("sys");
        Files.createDirectories(sys.resolve("unified/system.slice/q.service"));
        Path procs = Files.writeString(sys.resolve("unified/system.slice/q.service/cgroup.procs"), "17\n\n42\n99\n");
        assertNull(Host.procsFile(sys, "/system.slice/other.service"));
        assertEquals(procs, Host.procsFile(sys, "/system.slice/q.service"));
        assertEquals(procs, Host.procsFile(sys, "system.slice/q.service"));
        assertEquals(List.of(17L, 99L), new Host("b", "/system.slice/q.service", procs, 42).otherCgroupProcesses());
        assertNull(new Host("b", "", null, 42).otherCgroupProcesses());
        Files.writeString(procs, "17\nnot-a-pid\n");
        assertNull(new Host("b", "/system.slice/q.service", procs, 42).otherCgroupProcesses());
    }

    @Test
    void theServiceCgroupIsTheUnifiedOneElseSystemdsV1One() {
        assertEquals("/system.slice/q.service", Host.serviceCgroup(List.of(
                "12:name=systemd:/system.slice/old.service", "0::/system.slice/q.service")));
        assertEquals("/system.slice/q.service", Host.serviceCgroup(List.of(
                "0::/system.slice/q.service", "1:name=systemd:/system.slice/old.service")));
        assertEquals("/system.slice/old.service", Host.serviceCgroup(List.of(
                "3:cpu,cpuacct:/system.slice/old.service", "1:name=systemd:/system.slice/old.service",
                "0::/user.slice/session-4.scope")));
        // not a service: a session scope, a slice, another controller's hierarchy
        assertEquals("", Host.serviceCgroup(List.of("0::/user.slice/user-0.slice/session-4.scope")));
        assertEquals("", Host.serviceCgroup(List.of("1:name=systemd:/user.slice", "0::/")));
        assertEquals("", Host.serviceCgroup(List.of("3:cpu,cpuacct:/system.slice/q.service")));
        assertEquals("", Host.serviceCgroup(List.of()));
    }

    @Test
    void noQuorumdVariableComesFromCommandEnvOrTheAgentsOwnEnvironment() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/bin", "QUORUMD_OLD", "x", "NOTIFY_SOCKET", "/run/n"));
        BaseEnv.apply(env, Map.of("QUORUMD_CUSTOM", "1", "QUORUMD_TERM", "999", "FOO", "bar"),
                Map.of("QUORUMD_TERM", "3"));
        assertEquals(Map.of("PATH", "/bin", "FOO", "bar", "QUORUMD_TERM", "3"), env);
    }

    private static CommandSpec spec(String... argv) {
        return new CommandSpec(List.of(argv), null, null, Signals.SIGTERM, 0, RestartPolicy.NEVER, 0, 1);
    }

    @Test
    void aCommandSpecIsCheckedAndNamedByItsProgram() {
        assertEquals("nginx", spec("/usr/sbin/nginx", "-g", "daemon off;").name());
        assertEquals("pg_ctl", spec("/bin/sh", "-c", "exec /usr/bin/pg_ctl start; echo").name());
        assertEquals("redis-server", spec("/bin/bash", "-c", "  (redis-server --port 1)").name());
        assertEquals("sh", spec("/bin/sh", "-x", "run").name());
        assertEquals("command", spec("/bin/sh", "-c", ";;").name());
        assertThrows(IllegalArgumentException.class, () -> spec(""));
        // a script of one word, and a program at the root
        assertEquals("sleep", spec("/bin/sh", "-c", "sleep").name());
        assertEquals("x", spec("/x").name());
        // stop_signal: 1 to 64
        for (int sig : new int[] {1, 64}) {
            assertEquals(sig, new CommandSpec(List.of("/bin/true"), null, null, sig, 0, RestartPolicy.NEVER, 0, 1)
                    .stopSignal());
        }
        for (int sig : new int[] {0, 65}) {
            assertThrows(IllegalArgumentException.class,
                    () -> new CommandSpec(List.of("/bin/true"), null, null, sig, 0, RestartPolicy.NEVER, 0, 1));
        }
        assertThrows(IllegalArgumentException.class, () -> new CommandSpec(List.of("x"), null, null, 0, 0, RestartPolicy.NEVER, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new CommandSpec(List.of("x"), null, null, 65, 0, RestartPolicy.NEVER, 0, 1));
        assertEquals(64, new CommandSpec(List.of("x"), null, null, 64, 0, RestartPolicy.NEVER, 0, 1).stopSignal());
        assertThrows(IllegalArgumentException.class, () -> new CommandSpec(List.of("x"), null, null, 15, -1, RestartPolicy.NEVER, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new CommandSpec(List.of("x"), null, null, 15, 0, null, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new CommandSpec(List.of("x"), null, null, 15, 0, RestartPolicy.NEVER, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new CommandSpec(List.of("x"), null, null, 15, 0, RestartPolicy.NEVER, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new HookSpec(null, null, null, 0));
    }

    @Test
    void theBackOffDoublesFrom100MillisecondsUpTo10SecondsAndIsDrawnFromItsUpperHalf() throws Exception {
        try (Supervisor s = new Supervisor(null, HookSpec.none(), TestSupport.BASE, dir, e -> { })) {
            long ms = TimeUnit.MILLISECONDS.toNanos(1);
            long[] upper = {100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000};
            for (int n = 1; n <= upper.length; n++) {
                for (int i = 0; i < 50; i++) {
                    long d = s.backoff(n);
                    assertTrue(d >= upper[n - 1] * ms / 2 && d <= upper[n - 1] * ms, "back-off " + n + ": " + d + " ns");
                }
            }
            long far = s.backoff(1000);   // the shift stops at 20: no overflow into a negative delay
            assertTrue(far >= 5_000 * ms && far <= 10_000 * ms, far + " ns");
        }
    }
}
