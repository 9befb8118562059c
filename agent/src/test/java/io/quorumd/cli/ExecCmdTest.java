package io.quorumd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.Agent;
import io.quorumd.Main;
import io.quorumd.command.Signals;
import io.quorumd.config.ConfigLoader;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Reply;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quorumd exec} with real agents, real processes and real signals: it runs CMD only on the
 * master, with the command's environment; elsewhere it exits 0 or N without running it; and when
 * the master loses its lease, the agent's watchdog stops CMD's group (stop_signal at the lease's
 * end, SIGKILL stop_timeout later), even after the CLI itself was killed with SIGKILL.
 */
class ExecCmdTest {
    @TempDir
    Path tmp;
    private final io.quorumd.TestAgents agents = new io.quorumd.TestAgents();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        Processes.stopAll(processes, TimeUnit.SECONDS.toNanos(5));
        agents.close();
    }

    private Path config(String node, String peers, String extra) throws IOException {
        return io.quorumd.TestAgents.configFile(tmp, node, peers, "{heartbeat: 100ms, election_timeout: 1s}", extra);
    }

    private Agent start(Path file) throws Exception {
        return agents.start(ConfigLoader.load(file));
    }

    private record Run(int code, String out, String err) {}

    private static Run exec(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Cli.execute(args, new PrintWriter(o), new PrintWriter(e));
        return new Run(code, o.toString(), e.toString());
    }

    private static void await(String what, long seconds, BooleanSupplier cond) throws InterruptedException {
        io.quorumd.TestAgents.await(what, seconds, cond);
    }

    private static boolean isMaster(Path sock) {
        Reply r = ControlClient.call(sock, "exec-term", Duration.ofSeconds(2));
        return r.exitCode() == 0 && r.body().startsWith("term=");
    }

    @Test
    void runsOnTheMasterWithTheCommandsEnvironment() throws Exception {
        int p = FreePorts.pair(Set.of());
        Path cfg = config("solo", "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n",
                "command: {exec: [sleep, \"3600\"], env: {BACKUP_TARGET: s3}}\n");
        start(cfg);
        await("solo is master", 20, () -> isMaster(tmp.resolve("solo.sock")));
        Path out = tmp.resolve("env.out");
        Run r = exec("exec", "-c", cfg.toString(), "--", "sh", "-c",
                "echo \"$QUORUMD_ROLE $QUORUMD_NODE $QUORUMD_TERM $BACKUP_TARGET\" > " + out + "; exit 7");
        assertEquals(7, r.code(), r.err());
        String term = ControlClient.call(tmp.resolve("solo.sock"), "exec-term", Duration.ofSeconds(2)).body().trim()
                .split(" ")[0].substring(5);
        assertEquals("master solo " + term + " s3\n", Files.readString(out));
        // options after CMD are CMD's
        assertEquals(0, exec("exec", "-c", cfg.toString(), "test", "-n", "x").code());
    }

    @Test
    void elsewhereItExitsZeroOrNWithoutRunning() throws Exception {
        int pa = FreePorts.pair(Set.of());
        int pb = FreePorts.pair(Set.of(pa));
        int pc = FreePorts.pair(Set.of(pa, pb));
        // b and c never come: a never has a majority, so it is never master
        Path cfg = config("a", "  - {id: a, host: 127.0.0.1, port: " + pa + "}\n  - {id: b, host: 127.0.0.1, port: " + pb
                + "}\n  - {id: c, host: 127.0.0.1, port: " + pc + "}\n", "");
        start(cfg);
        Path ran = tmp.resolve("ran");
        Thread.sleep(2200);   // two election timeouts: it has tried
        Run r = exec("exec", "-c", cfg.toString(), "--", "touch", ran.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out() + r.err(), "silent for cron");
        assertEquals(5, exec("exec", "-c", cfg.toString(), "--not-master-exit", "5", "--", "touch", ran.toString()).code());
        assertFalse(Files.exists(ran), "CMD never ran on a node that is not the master");
        // no agent at all is an error, not "not the master"
        Path none = config("x", "  - {id: x, host: 127.0.0.1, port: " + pa + "}\n", "");
        Run down = exec("exec", "-c", none.toString(), "--", "touch", ran.toString());
        assertEquals(3, down.code());
        assertTrue(down.err().contains("no agent answers"), down.err());
        assertFalse(Files.exists(ran));
    }

    @Test
    void aGroupIsGuardedOnlyForItsCallersChild() throws Exception {
        int p = FreePorts.pair(Set.of());
        Path cfg = config("solo", "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n", "");
        start(cfg);
        Path sock = tmp.resolve("solo.sock");
        await("solo is master", 20, () -> isMaster(sock));
        String term = ControlClient.call(sock, "exec-term", Duration.ofSeconds(2)).body().trim().split(" ")[0].substring(5);
        // pid 1 is not our child (nor a group we may hand to a watchdog)
        Reply r = ControlClient.call(sock, "exec-guard 1 " + term, Duration.ofSeconds(5));
        assertEquals(1, r.exitCode(), r.body());
        Reply stale = ControlClient.call(sock, "exec-guard " + ProcessHandle.current().pid() + " " + (Long.parseLong(term) + 1),
                Duration.ofSeconds(5));
        assertEquals(3, stale.exitCode(), stale.body());
        assertTrue(stale.body().contains("no longer the master of term"), stale.body());
    }

    /**
     * The master of a two-node cluster runs {@code quorumd exec} (a real CLI JVM) of a CMD that
     * ignores SIGTERM; the CLI is killed with SIGKILL and CMD runs on, guarded; then the other node
     * stops, the master's lease runs out, and the agent's watchdog sends SIGTERM, then SIGKILL
     * stop_timeout (1 s) later, and CMD's group is gone.
     */
    @Test
    void losingTheLeaseStopsTheGroupEvenAfterTheCliWasKilled() throws Exception {
        int pa = FreePorts.pair(Set.of());
        int pb = FreePorts.pair(Set.of(pa));
        String peers = "  - {id: a, host: 127.0.0.1, port: " + pa + "}\n  - {id: b, host: 127.0.0.1, port: " + pb + "}\n";
        String cmd = "command: {exec: [sleep, \"3600\"], stop_timeout: 1s}\n";
        Path ca = config("a", peers, cmd);
        Path cb = config("b", peers, cmd);
        Agent a = start(ca);
        Agent b = start(cb);
        await("a master", 20, () -> isMaster(tmp.resolve("a.sock")) || isMaster(tmp.resolve("b.sock")));
        boolean aIsMaster = isMaster(tmp.resolve("a.sock"));
        Path masterCfg = aIsMaster ? ca : cb;
        Agent follower = aIsMaster ? b : a;
        Path masterState = tmp.resolve(aIsMaster ? "a" : "b");

        Path pidFile = tmp.resolve("cmd.pid");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process cli = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "exec", "-c", masterCfg.toString(), "--", "sh", "-c",
                "trap '' TERM; echo $$ > " + pidFile + ".tmp; mv " + pidFile + ".tmp " + pidFile + "; while :; do sleep 0.05; done")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("cli.log").toFile()).start();
        processes.add(cli);
        await("CMD runs", 30, () -> Files.exists(pidFile));
        int pid = Integer.parseInt(Files.readString(pidFile).trim());
        assertEquals(pid, Signals.pgrpOf(pid), "CMD leads its own process group");

        cli.destroyForcibly();   // kill -9 of quorumd exec
        assertTrue(cli.waitFor(10, TimeUnit.SECONDS));
        Thread.sleep(500);
        assertTrue(Signals.groupAlive(pid), "CMD runs on after the CLI's SIGKILL, still guarded: the lease holds");

        follower.requestShutdown();   // the master loses its majority, then its lease
        long t0 = System.nanoTime();
        await("the watchdog ended CMD's group", 10, () -> !Signals.groupAlive(pid));
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        Path wlog = masterState.resolve("watchdog.log");
        // the watchdog logs its SIGKILL just after sending it: wait for the line
        await("the watchdog logged its SIGKILL", 5, () -> {
            try {
                return Files.readString(wlog).contains("SIGKILL sent");
            } catch (IOException e) {
                return false;
            }
        });
        String log = Files.readString(wlog);
        assertTrue(log.contains("exec term=") && log.contains("signal 15 sent"), log);
        assertTrue(tookMillis >= 900, "SIGKILL came stop_timeout (1 s) after SIGTERM, not sooner: " + tookMillis + " ms");
    }

    @Test
    void theCliWaitsForCmdAndReportsTheLeaseKill() throws Exception {
        int pa = FreePorts.pair(Set.of());
        int pb = FreePorts.pair(Set.of(pa));
        String peers = "  - {id: a, host: 127.0.0.1, port: " + pa + "}\n  - {id: b, host: 127.0.0.1, port: " + pb + "}\n";
        Path ca = config("a", peers, "");
        Path cb = config("b", peers, "");
        Agent a = start(ca);
        Agent b = start(cb);
        await("a master", 20, () -> isMaster(tmp.resolve("a.sock")) || isMaster(tmp.resolve("b.sock")));
        boolean aIsMaster = isMaster(tmp.resolve("a.sock"));
        Path started = tmp.resolve("started");
        CompletableFuture<Run> run = CompletableFuture.supplyAsync(() -> exec("exec", "-c", (aIsMaster ? ca : cb).toString(),
                "--", "sh", "-c", "touch " + started + "; sleep 60"));
        await("CMD runs", 20, () -> {
            if (run.isDone()) fail("exec ended before CMD ran: " + run.join());
            return Files.exists(started);
        });
        (aIsMaster ? b : a).requestShutdown();
        Run r = run.get(15, TimeUnit.SECONDS);
        assertEquals(128 + 15, r.code(), "CMD's group got SIGTERM at the lease's end: " + r.err());
    }
}
