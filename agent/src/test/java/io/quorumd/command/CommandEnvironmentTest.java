package io.quorumd.command;

import static io.quorumd.command.TestSupport.BASE;
import static io.quorumd.command.TestSupport.await;
import static io.quorumd.command.TestSupport.leaseIn;
import static io.quorumd.command.TestSupport.readOrEmpty;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.Event;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the managed command sees: SPEC's variables, env:, workdir, its own session and group. */
class CommandEnvironmentTest {
    private static final Duration LONG = TestSupport.PATIENCE;

    @Test
    void theCommandSeesExactlyTheSpecEnvironmentInItsOwnGroup(@TempDir Path dir) throws Exception {
        Path work = Files.createDirectory(dir.resolve("work"));
        Path out = dir.resolve("out");
        // argv form, no shell between the agent and the program: the program here is sh itself
        String probe = "env > env.txt; pwd > pwd.txt; readlink /proc/self/fd/0 > stdin.txt; "
                + "cut -d' ' -f6 /proc/self/stat > sid.txt; echo $$ > pid.txt; mv env.txt " + out + "; exec sleep 1000";
        CommandSpec spec = new CommandSpec(List.of("/bin/sh", "-c", probe), work,
                Map.of("FOO", "bar baz", "QUORUMD_TERM", "999"), Signals.SIGTERM, TimeUnit.SECONDS.toNanos(1),
                RestartPolicy.NEVER, 0, TimeUnit.MINUTES.toNanos(1));
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(spec, HookSpec.none(), BASE, dir.resolve("state"), ev::accept)) {
            s.start(17, "node-a", leaseIn(Duration.ofMinutes(1)));
            int pgid = SupervisorStopTest.awaitRunning(s);
            await("the probe wrote its environment", LONG, () -> Files.exists(out));
            String env = readOrEmpty(out);
            assertEquals(Map.of("QUORUMD_CLUSTER", "payments", "QUORUMD_NODE", "node-a", "QUORUMD_TERM", "17",
                    "QUORUMD_MASTER", "node-a", "QUORUMD_ROLE", "master", "QUORUMD_PEERS", "node-a,node-b,node-c"),
                    HooksTest.quorumdVars(env), "exactly the SPEC's QUORUMD_ variables; env: cannot override them");
            assertTrue(env.contains("\nFOO=bar baz\n"), env);
            assertFalse(env.contains("NOTIFY_SOCKET="), env);
            assertEquals(work.toString(), readOrEmpty(work.resolve("pwd.txt")).trim());
            assertEquals("/dev/null", readOrEmpty(work.resolve("stdin.txt")).trim());
            int pid = Integer.parseInt(readOrEmpty(work.resolve("pid.txt")).trim());
            assertEquals(pgid, pid, "the command is the process the agent forked (setsid did not fork)");
            assertEquals(pgid, Signals.pgrpOf(pid), "it leads its own process group");
            assertEquals(Integer.toString(pgid), readOrEmpty(work.resolve("sid.txt")).trim(), "and its own session");
            s.stop(17, "test");
            assertEquals(new Event.CommandStopped(17), ev.nextEvent(Event.CommandStopped.class, LONG));
        }
    }

    @Test
    void inheritedQuorumdAndSystemdVariablesAreDropped() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/usr/bin", "QUORUMD_CONFIG", "/etc/q.yaml",
                "NOTIFY_SOCKET", "/run/systemd/notify", "WATCHDOG_USEC", "5000000", "LANG", "C.UTF-8"));
        BaseEnv.apply(env, Map.of("KEY", "value", "QUORUMD_ROLE", "follower"), BASE.variables("master", 3, "node-a"));
        Map<String, String> expected = new HashMap<>(BASE.variables("master", 3, "node-a"));
        expected.putAll(Map.of("PATH", "/usr/bin", "LANG", "C.UTF-8", "KEY", "value"));
        assertEquals(expected, env);
    }

    /** Item 4 of issue 11: command.env PATH made the wrapper fail ("mv: not found", exit 126). */
    @Test
    void aCommandEnvPathDoesNotBreakTheAgentsOwnScripts(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("path.txt");
        String probe = "echo \"$PATH\" > " + out + ".tmp; /bin/mv " + out + ".tmp " + out + "; exec /bin/sleep 1000";
        CommandSpec spec = new CommandSpec(List.of("/bin/sh", "-c", probe), null, Map.of("PATH", "/nonexistent"),
                Signals.SIGTERM, TimeUnit.SECONDS.toNanos(1), RestartPolicy.NEVER, 0, TimeUnit.MINUTES.toNanos(1));
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(spec, HookSpec.none(), BASE, dir.resolve("state"), ev::accept)) {
            s.start(5, "node-a", leaseIn(Duration.ofMinutes(1)));
            SupervisorStopTest.awaitRunning(s);
            await("the command ran and wrote its PATH", LONG, () -> Files.exists(out));
            assertEquals("/nonexistent", readOrEmpty(out).trim(), "the command keeps the PATH of its env");
            s.stop(5, "test");
            assertEquals(new Event.CommandStopped(5), ev.nextEvent(Event.CommandStopped.class, LONG));
        }
    }

    /**
     * Item 7 of issue 11: the wrapper and the watchdog were written to state_dir/scripts, where the
     * command they guard (same user) could rewrite them, and the command ran in the agent's working
     * directory (the state directory under systemd).
     */
    @Test
    void theAgentsScriptsRunFromTheInstallationAndTheCommandRunsInSlash(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        // what an earlier build left, and what the command could have rewritten: never run, removed
        Path old = Files.createDirectories(state.resolve("scripts"));
        Path planted = dir.resolve("planted");
        Files.writeString(old.resolve(Spawner.WRAPPER), "touch " + planted + "\nexec \"$@\"\n");
        Files.writeString(old.resolve(Spawner.WATCHDOG), "touch " + planted + "\n");
        Path out = dir.resolve("cmd.txt");
        String probe = "pwd > " + out + ".tmp; mv " + out + ".tmp " + out + "; exec sleep 1000";
        CommandSpec spec = new CommandSpec(List.of("/bin/sh", "-c", probe), null, Map.of(), Signals.SIGTERM,
                TimeUnit.SECONDS.toNanos(1), RestartPolicy.NEVER, 0, TimeUnit.MINUTES.toNanos(1));
        TestSupport.Events ev = new TestSupport.Events();
        try (Supervisor s = new Supervisor(spec, HookSpec.none(), BASE, state, ev::accept)) {
            s.start(9, "node-a", leaseIn(Duration.ofMinutes(1)));
            SupervisorStopTest.awaitRunning(s);
            await("the probe wrote its working directory", LONG, () -> Files.exists(out));
            assertEquals("/", readOrEmpty(out).trim(), "without workdir the command runs in /");
            Path scripts = Spawner.scriptsDir();
            assertFalse(scripts.startsWith(state), scripts.toString());
            assertTrue(Files.isRegularFile(scripts.resolve(Spawner.WRAPPER)), scripts.toString());
            assertFalse(Files.exists(state.resolve("scripts")), "state_dir/scripts is gone, nothing written there");
            assertFalse(Files.exists(planted), "the scripts left in state_dir/scripts never ran");
            try (var files = Files.walk(state)) {
                assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".sh")), "no script in state_dir");
            }
            try (Spawner sp = new Spawner()) {
                assertEquals(List.of(scripts.resolve(Spawner.WRAPPER).toString()), sp.wrapper().subList(1, 2));
            }
            long watchdog = s.watchdogPid();
            String watchdogArgv = readOrEmpty(Path.of("/proc/" + watchdog + "/cmdline")).replace('\0', ' ');
            assertTrue(watchdogArgv.contains(" " + scripts.resolve(Spawner.WATCHDOG) + " "), watchdogArgv);
            s.stop(9, "test");
            assertEquals(new Event.CommandStopped(9), ev.nextEvent(Event.CommandStopped.class, LONG));
        }
    }

    /** Where the agent looks for its scripts: beside lib/ when packaged or launched, beside classes/ in tests. */
    @Test
    void theScriptsAreFoundBesideTheAgentsLibOrClasses(@TempDir Path dir) throws Exception {
        Path lib = Files.createDirectories(dir.resolve("usr/share/quorumd/lib"));
        Path jar = Files.createFile(lib.resolve("quorumd.jar"));
        assertEquals(dir.resolve("usr/share/quorumd/scripts"), Spawner.scriptsDirFor(jar));
        Path classes = Files.createDirectories(dir.resolve("agent/target/classes"));
        assertEquals(dir.resolve("agent/target/scripts"), Spawner.scriptsDirFor(classes));
    }
}
