package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.containers.Container.ExecResult;

/**
 * The .deb on one host under systemd, step by step as an operator meets it: a fresh install
 * that is enabled but does not start on the placeholder config, a lone first host of three that
 * is READY without a master, a solo agent running its command as the quorumd user, JVM options from /etc/default/quorumd, a crash and a wedge of the agent,
 * a User= drop-in, a stop, removal and purge. The steps share one
 * container and run in order, one after the other (the class runs beside the other multi-host
 * classes, its methods do not).
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class PackageTest {
    private Cluster cluster;
    private Node node;
    private String dpkgOutput;
    private volatile String failedStep;

    /** Each step builds on the one before: after a failure the rest are skipped, not timed out. */
    @RegisterExtension
    final TestWatcher stepWatcher = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            failedStep = context.getDisplayName();
        }
    };

    @BeforeEach
    void previousStepsPassed() {
        Assumptions.assumeTrue(failedStep == null, () -> "skipped: the earlier step " + failedStep + " failed");
    }

    @BeforeAll
    void boot() {
        MultiHost.requireEnvironment();
        cluster = Cluster.boot("package", 1);
        node = cluster.nodes.get(0);
        long t = System.nanoTime();
        ExecResult r = node.exec("dpkg", "-i", "/var/tmp/quorumd.deb");
        cluster.report("dpkg -i of a fresh install took " + Cluster.ms(System.nanoTime() - t) + " ms");
        dpkgOutput = r.getStdout() + r.getStderr();
        assertEquals(0, r.getExitCode(), "dpkg -i failed:\n" + dpkgOutput);
    }

    @AfterAll
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(2)
    @Execution(ExecutionMode.SAME_THREAD)
    void freshInstallIsEnabledButThePlaceholderConfigKeepsItStopped() {
        assertEquals("enabled", node.exec("systemctl", "is-enabled", "quorumd").getStdout().trim());
        assertNotEquals("active", node.exec("systemctl", "is-active", "quorumd").getStdout().trim(),
                "the agent must not run on the placeholder config\n" + cluster.journal(node, 20));
        assertTrue(dpkgOutput.contains("not starting quorumd.service"),
                "postinst should say why it did not start the unit:\n" + dpkgOutput);

        ExecResult check = node.exec("quorumd", "check");
        assertEquals(2, check.getExitCode(), "quorumd check of the placeholder: " + check.getStdout() + check.getStderr());
        assertTrue(check.getStderr().contains("cluster"), "check should name the missing key: " + check.getStderr());

        // started by hand anyway: it fails at once with a clear line, and is not restarted (exit 2)
        assertNotEquals(0, node.exec("systemctl", "start", "quorumd").getExitCode());
        String journal = node.execOk("journalctl", "-u", "quorumd", "--no-pager", "-o", "cat");
        assertTrue(journal.contains("cluster") && journal.contains("required key is missing"),
                "the journal should say what is wrong with the config:\n" + journal);
        Cluster.await("the unit to settle as failed", Duration.ofSeconds(10),
                () -> node.exec("systemctl", "is-failed", "quorumd").getExitCode() == 0);
        assertEquals("0", node.execOk("systemctl", "show", "-p", "NRestarts", "--value", "quorumd").trim(),
                "a config error (exit 2) must not be restarted in a loop");
        node.execOk("systemctl", "reset-failed", "quorumd");
    }

    @Test
    @Order(1)
    @Execution(ExecutionMode.SAME_THREAD)
    void filesUsersAndTheUnitAreAsPackaged() {
        assertEquals("root:quorumd 640", node.execOk("stat", "-c", "%U:%G %a", "/etc/quorumd/quorumd.yaml").trim());
        assertEquals("root:quorumd 750", node.execOk("stat", "-c", "%U:%G %a", "/etc/quorumd").trim());
        assertEquals("quorumd:quorumd 750", node.execOk("stat", "-c", "%U:%G %a", "/var/lib/quorumd").trim());
        assertTrue(node.execOk("getent", "passwd", "quorumd").trim().endsWith(":/var/lib/quorumd:/usr/sbin/nologin"));
        String conffiles = node.execOk("dpkg-query", "-W", "-f=${Conffiles}", "quorumd");
        assertTrue(conffiles.contains("/etc/quorumd/quorumd.yaml") && conffiles.contains("/etc/default/quorumd"), conffiles);
        assertTrue(node.execOk("ls", "/usr/share/quorumd/lib").contains("quorumd.jar"));
        // systemd-analyze verify exits 0 even on errors: any output is a failure
        ExecResult verify = node.exec("systemd-analyze", "verify", "--man=no", "quorumd.service");
        assertEquals("", (verify.getStdout() + verify.getStderr()).trim(), "systemd-analyze verify quorumd.service");
        ExecResult version = node.exec("quorumd", "--version");
        assertEquals(0, version.getExitCode(), "quorumd --version: " + version.getStderr());
        cluster.report("quorumd --version in the container: " + version.getStdout().trim());
    }

    @Test
    @Order(3)
    @Execution(ExecutionMode.SAME_THREAD)
    void aLoneFirstHostOfThreeIsReadyBeforeAnyMasterIsKnown() {
        // two peers that do not exist yet (no container holds these addresses of the test network)
        String prefix = node.ip.substring(0, node.ip.lastIndexOf('.') + 1);
        String yaml = cluster.configFor(node).replace("timing:\n", "  - id: n2\n    host: " + prefix + "250\n"
                + "  - id: n3\n    host: " + prefix + "251\n" + "timing:\n");
        cluster.configure(node, yaml);
        node.execOk("quorumd", "check");
        long t = System.nanoTime();
        // Type=notify: systemctl start returns once READY=1 came, and fails after TimeoutStartSec without it
        ExecResult start = node.exec("systemctl", "start", "quorumd");
        long readyMillis = Cluster.ms(System.nanoTime() - t);
        assertEquals(0, start.getExitCode(), "a lone first host must be READY without a master: " + start.getStderr()
                + "\n" + cluster.journal(node, 30));
        cluster.report("lone first host of three: systemctl start returned (READY=1) after " + readyMillis + " ms");
        assertEquals("active", node.exec("systemctl", "is-active", "quorumd").getStdout().trim());
        Map<String, Object> s = node.status();
        assertNotEquals("master", s.get("role"), "one of three is no majority: " + s);
        assertNull(s.get("master"), "no master is known: " + s);
        assertTrue(cluster.observer.runs().isEmpty(), "no command runs without a majority: " + cluster.observer.runs());
        node.execOk("systemctl", "stop", "quorumd");
    }

    @Test
    @Order(4)
    @Execution(ExecutionMode.SAME_THREAD)
    void soloAgentRunsTheCommandAsQuorumdWithNotifyAndWatchdog() {
        cluster.configure(node);
        node.execOk("quorumd", "check");
        long t = System.nanoTime();
        node.execOk("systemctl", "start", "quorumd");
        cluster.report("systemctl start of a solo agent returned (READY=1) after " + Cluster.ms(System.nanoTime() - t) + " ms");
        Run run = cluster.awaitSingleMaster();
        cluster.report("solo: the command started " + Cluster.ms(run.startNanos() - t) + " ms after systemctl start");

        String mainPid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
        assertEquals("quorumd", node.execOk("ps", "-o", "user=", "-p", mainPid).trim(), "the agent's user");
        assertEquals("quorumd", node.execOk("ps", "-o", "user=", "-p", Long.toString(run.nsPid())).trim(), "the command's user");
        assertEquals("10s", node.execOk("systemctl", "show", "-p", "WatchdogUSec", "--value", "quorumd").trim());
        String statusText = node.execOk("systemctl", "show", "-p", "StatusText", "--value", "quorumd");
        assertTrue(statusText.contains("master") && statusText.contains(Long.toString(run.term())),
                "STATUS= should carry role and term: " + statusText);
        assertEquals("660 quorumd", node.execOk("stat", "-c", "%a %G", "/run/quorumd/control.sock").trim());

        Map<String, Object> s = node.status();
        for (String key : new String[] {"cluster", "node", "role", "term", "master", "lease_ms", "peers", "command", "dropped"}) {
            assertTrue(s.containsKey(key), "status --json lacks " + key + ": " + s);
        }
        assertEquals("master", s.get("role"));
        assertEquals(node.id, s.get("master"));
        assertEquals(0, node.exec("quorumd", "leader").getExitCode());
        cluster.assertExclusive();
    }

    @Test
    @Order(5)
    @Execution(ExecutionMode.SAME_THREAD)
    void javaOptionsComeFromTheEnvironmentFileAfterTheLeanDefaults() {
        String mainPid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
        String args = node.execOk("ps", "-o", "args=", "-p", mainPid);
        assertTrue(args.contains("-XX:+UseSerialGC") && args.contains("-Xmx32m"), "lean JVM defaults: " + args);
        String rss = node.execOk("ps", "-o", "rss=", "-p", mainPid).trim();
        cluster.report("solo agent at rest: RSS " + Long.parseLong(rss) / 1024 + " MiB (target < 48 MiB)");

        node.execOk("sh", "-c", "echo 'QUORUMD_JAVA_OPTS=\"-Xmx40m -Dquorumd.test=1\"' >> /etc/default/quorumd");
        node.execOk("systemctl", "restart", "quorumd");
        String newPid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
        String newArgs = node.execOk("ps", "-o", "args=", "-p", newPid);
        assertTrue(newArgs.contains("-Dquorumd.test=1") && newArgs.indexOf("-Xmx40m") > newArgs.indexOf("-Xmx32m"),
                "QUORUMD_JAVA_OPTS from /etc/default/quorumd must follow the defaults: " + newArgs);
        // outside systemd the launcher reads the same file
        assertEquals(0, node.exec("quorumd", "--version").getExitCode());
    }

    /**
     * A JDK update changes the java the class archive was made from (the launcher's key covers
     * the java binary): the package's dpkg trigger on /usr/lib/jvm makes a matching archive at
     * once, so the first start after the update is a fast one too. The update is played by what it
     * does to the key (a new java binary: its mtime) and by the trigger the JDK package's files
     * under /usr/lib/jvm set off.
     */
    @Test
    @Order(5)
    @Execution(ExecutionMode.SAME_THREAD)
    void aJavaUpdateUnderUsrLibJvmRetrainsTheClassArchive() {
        String before = mappedArchive();
        assertFalse(before.isEmpty(), "the launcher maps the archive written at install");
        String java = node.execOk("readlink", "-f", "/usr/bin/java").trim();
        assertTrue(java.startsWith("/usr/lib/jvm/"), java);
        node.execOk("touch", "-d", "@" + (System.currentTimeMillis() / 1000 + 5), java);
        assertEquals("", mappedArchive(), "an archive of the old java must not be mapped");
        node.execOk("dpkg-trigger", "--no-await", "/usr/lib/jvm");
        String out = node.execOk("dpkg", "--triggers-only", "quorumd");
        String after = mappedArchive();
        cluster.report("java updated: the dpkg trigger retrained the class archive: " + after + " (was " + before + "); dpkg said: "
                + out.replace('\n', ' '));
        assertFalse(after.isEmpty(), "after the trigger the launcher maps a new archive: " + out);
        assertNotEquals(before, after);
        String file = after.substring(after.indexOf('=') + 1);
        assertEquals("quorumd", node.execOk("stat", "-c", "%U", file).trim(), "written as the agent's user");
        assertEquals(1, node.execOk("sh", "-c", "ls /var/cache/quorumd/ | grep -E '^quorumd-.*[.](aot|jsa)$'")
                .trim().split("\n").length, "the old archive is gone");
    }

    /** The -XX option naming the class archive that the installed launcher maps, or "". */
    private String mappedArchive() {
        return node.execOk("sh", "-c", "sh -x /usr/bin/quorumd --version 2>&1 >/dev/null"
                + " | grep -o -- '-XX:\\(AOTCache\\|SharedArchiveFile\\)=[^ ]*' | head -n 1 || true").trim();
    }

    @Test
    @Order(6)
    @Execution(ExecutionMode.SAME_THREAD)
    void aKilledAgentTakesItsCommandWithItAndIsRestarted() {
        Run before = cluster.awaitSingleMaster();
        String mainPid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
        long t = System.nanoTime();
        node.execOk("kill", "-KILL", mainPid);
        Run gone = cluster.awaitGone(before, Duration.ofSeconds(5));
        cluster.report("agent SIGKILLed: its command's group was empty " + Cluster.ms(gone.goneNanos() - t) + " ms later");
        assertTrue(gone.goneNanos() - t < Duration.ofSeconds(2).toNanos(), "the command outlived its agent by "
                + Cluster.ms(gone.goneNanos() - t) + " ms");
        Run after = cluster.awaitRunStartedAfter(t, r -> true, "the restarted agent's command");
        cluster.report("agent SIGKILLed: systemd restarted it and its command ran again " + Cluster.ms(after.startNanos() - t) + " ms later");
        assertTrue(Integer.parseInt(node.execOk("systemctl", "show", "-p", "NRestarts", "--value", "quorumd").trim()) >= 1);
        assertTrue(after.term() > before.term(), "a new master term after the restart: " + before + " then " + after);
        cluster.assertExclusive();
    }

    @Test
    @Order(7)
    @Execution(ExecutionMode.SAME_THREAD)
    void aWedgedAgentLosesItsCommandAtTheLeaseEndAndIsRestartedBySystemdsWatchdog() {
        Run before = cluster.awaitSingleMaster();
        String mainPid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
        long t = System.nanoTime();
        // SIGSTOP: the event loop stops, so do its WATCHDOG=1 pings and lease renewals
        node.execOk("kill", "-STOP", mainPid);
        Run gone = cluster.awaitGone(before, Duration.ofSeconds(10));
        long goneMillis = Cluster.ms(gone.goneNanos() - t);
        cluster.report("agent SIGSTOPped: the watchdog outside the JVM stopped its command " + goneMillis
                + " ms later (lease " + Cluster.LEASE_MILLIS + " ms)");
        // At the lease's end, not at systemd's watchdog (WatchdogSec=10s) nor before the lease: the
        // last lease renewal was at most two heartbeats before the stop (a keep-alive sent, its
        // echoes not yet counted), and the command (sleep) dies at once on stop_signal; the
        // observer polls every 5 ms. 500 ms covers the watchdog's timer and a loaded machine.
        assertTrue(goneMillis >= Cluster.LEASE_MILLIS - 2 * Cluster.HEARTBEAT_MILLIS,
                "the command was stopped " + goneMillis + " ms after the agent froze, before its lease could have ended");
        assertTrue(goneMillis <= Cluster.LEASE_MILLIS + 500, "the command was stopped " + goneMillis
                + " ms after the agent froze, not at the lease's end (" + Cluster.LEASE_MILLIS + " ms)");
        Cluster.await("systemd's watchdog to restart the agent", Duration.ofSeconds(40), () -> {
            String pid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
            return !pid.equals(mainPid) && !pid.equals("0");
        });
        Run after = cluster.awaitRunStartedAfter(t, r -> true, "a command from the restarted agent");
        cluster.report("agent SIGSTOPped: systemd's watchdog (WatchdogSec=10s, TimeoutAbortSec=5s) restarted it; its command ran again "
                + Cluster.ms(after.startNanos() - t) + " ms after the stop");
        String journal = node.execOk("journalctl", "-u", "quorumd", "--no-pager", "-o", "cat");
        assertTrue(journal.contains("Watchdog timeout"), "the journal should show the watchdog: " + journal);
        cluster.assertExclusive();
    }

    @Test
    @Order(8)
    @Execution(ExecutionMode.SAME_THREAD)
    void aUserDropInRunsTheAgentAndItsCommandAsAnotherUser() {
        // an operator's service account; in group quorumd to read /etc/quorumd (root:quorumd 0750)
        node.execOk("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", "quorumd", "svc");
        node.execOk("mkdir", "-p", "/etc/systemd/system/quorumd.service.d");
        node.execOk("sh", "-c", "printf '[Service]\\nUser=svc\\nGroup=svc\\n' > /etc/systemd/system/quorumd.service.d/user.conf");
        node.execOk("systemctl", "daemon-reload");
        long t = System.nanoTime();
        node.execOk("systemctl", "restart", "quorumd");
        Run run = cluster.awaitRunStartedAfter(t, r -> true, "the command under the drop-in's user");
        String mainPid = node.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
        assertEquals("svc", node.execOk("ps", "-o", "user=", "-p", mainPid).trim(), "the agent's user under User=svc");
        assertEquals("svc", node.execOk("ps", "-o", "user=", "-p", Long.toString(run.nsPid())).trim(),
                "the command's user under User=svc");
        assertEquals("svc", node.execOk("stat", "-c", "%U", "/var/lib/quorumd").trim(), "StateDirectory follows User=");
        assertEquals("quorumd", node.execOk("stat", "-c", "%G", "/run/quorumd/control.sock").trim(),
                "the control socket stays in group quorumd");
        assertEquals("master", node.status().get("role"));
        cluster.report("User=svc drop-in: agent and command run as svc, term " + run.term());

        // and back to the packaged user
        node.execOk("rm", "/etc/systemd/system/quorumd.service.d/user.conf");
        node.execOk("systemctl", "daemon-reload");
        long back = System.nanoTime();
        node.execOk("systemctl", "restart", "quorumd");
        Run again = cluster.awaitRunStartedAfter(back, r -> true, "the command as quorumd again");
        assertEquals("quorumd", node.execOk("ps", "-o", "user=", "-p", Long.toString(again.nsPid())).trim());
        cluster.assertExclusive();
    }

    @Test
    @Order(9)
    @Execution(ExecutionMode.SAME_THREAD)
    void stopEndsTheCommandCleanly() {
        Run run = cluster.awaitSingleMaster();
        long t = System.nanoTime();
        node.execOk("systemctl", "stop", "quorumd");
        Run gone = cluster.awaitGone(run, Duration.ofSeconds(5));
        cluster.report("systemctl stop: command gone after " + Cluster.ms(gone.goneNanos() - t) + " ms, stop returned after "
                + Cluster.ms(System.nanoTime() - t) + " ms");
        assertEquals("success", node.execOk("systemctl", "show", "-p", "Result", "--value", "quorumd").trim());
    }

    @Test
    @Order(10)
    @Execution(ExecutionMode.SAME_THREAD)
    void removeStopsTheAgentAndPurgeRemovesItsFiles() {
        node.execOk("systemctl", "start", "quorumd");
        Run run = cluster.awaitSingleMaster();
        node.execOk("dpkg", "-r", "quorumd");
        cluster.awaitGone(run, Duration.ofSeconds(5));
        assertEquals("rc", node.execOk("dpkg-query", "-W", "-f=${db:Status-Abbrev}", "quorumd").trim());
        assertEquals(0, node.exec("test", "-f", "/etc/quorumd/quorumd.yaml").getExitCode(), "remove keeps the config");
        node.execOk("dpkg", "-P", "quorumd");
        assertNotEquals(0, node.exec("test", "-e", "/etc/quorumd").getExitCode(), "purge removes /etc/quorumd");
        assertNotEquals(0, node.exec("test", "-e", "/var/lib/quorumd").getExitCode(), "purge removes /var/lib/quorumd");
        assertEquals(0, node.exec("getent", "passwd", "quorumd").getExitCode(), "the system user stays (Debian convention)");
    }
}
