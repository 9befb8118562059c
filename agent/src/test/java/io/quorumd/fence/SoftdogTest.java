package io.quorumd.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.Agent;
import io.quorumd.cli.FreePorts;
import io.quorumd.config.ConfigLoader;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Reply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code self_fence} against a real kernel watchdog: Linux' {@code softdog}, loaded with
 * {@code soft_noboot=1} so that its expiry only logs and never resets the machine running the
 * tests. The kernel's own view of the device ({@code /sys/class/watchdog/watchdogN}: state and
 * timeout) is the observer: active with the lease's timeout while the agent is master, inactive
 * again after the agent's clean stop (the magic 'V' was honoured).
 *
 * <p>Skipped with the reason where softdog cannot be used safely: no module can be loaded (a VM
 * or container without modules, as the development machine and CI here), softdog already loaded
 * without {@code soft_noboot} (its expiry would reset this host), loaded with {@code nowayout}
 * (it could never be closed), or its device held by someone else (systemd's RuntimeWatchdogSec).
 */
class SoftdogTest {
    private static final Path MODULE = Path.of("/sys/module/softdog");
    @TempDir
    Path tmp;
    private final io.quorumd.TestAgents agents = new io.quorumd.TestAgents();

    @AfterEach
    void stopAll() throws InterruptedException {
        agents.close();
    }

    @Test
    void aMasterArmsTheKernelWatchdogWithItsLeaseAndAStopDisarmsIt() throws Exception {
        Path sys = softdog();
        String dev = "/dev/" + sys.getFileName();
        assertEquals("inactive", read(sys.resolve("state")), "nobody holds " + dev + " before the agent");
        int p = FreePorts.pair(Set.of());
        // election_timeout 2 s and 1 % drift: a lease of 1.96 s, so the device's timeout is 1 s
        Agent a = agents.start(ConfigLoader.load(io.quorumd.TestAgents.configFile(tmp, "solo",
                "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n", "{heartbeat: 100ms, election_timeout: 2000ms}",
                "self_fence: {mode: required, device: " + dev + "}\n")));
        io.quorumd.TestAgents.await("the master arms " + dev, 20, () -> "active".equals(read(sys.resolve("state"))));
        assertEquals("solo", leader(tmp.resolve("solo.sock")));
        assertEquals("1", read(sys.resolve("timeout")), "the device's timeout is the lease rounded down to whole seconds");
        // softdog restarts its count at each pet; with soft_noboot an expiry only logs "Triggered":
        // over three of its timeouts while the lease holds, the kernel logs no expiry
        long fired = triggered();
        Thread.sleep(3000);
        assertEquals("active", read(sys.resolve("state")));
        assertEquals(fired, triggered(), "softdog expired while the master held its lease: the petting lapsed");
        a.requestShutdown();
        assertTrue(a.awaitExit(TimeUnit.SECONDS.toNanos(20)));
        assertEquals("inactive", read(sys.resolve("state")), "the clean stop closed " + dev + " with the magic 'V'");
    }

    /** The softdog's /sys/class/watchdog entry, loading the module with soft_noboot=1 if it can; else skips. */
    private static Path softdog() throws Exception {
        if (!Files.isDirectory(MODULE)) {
            String why;
            try {
                Process m = new ProcessBuilder("modprobe", "softdog", "soft_noboot=1").redirectErrorStream(true).start();
                String out = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                why = m.waitFor(30, TimeUnit.SECONDS) && m.exitValue() == 0 ? null : "modprobe softdog: " + out;
            } catch (IOException e) {
                why = "no modprobe here (" + e.getMessage() + ")";
            }
            Assumptions.assumeTrue(Files.isDirectory(MODULE),
                    "softdog cannot be loaded on this machine (" + why + "; kernel " + System.getProperty("os.version")
                            + "): the real-device test is skipped; SelfFenceTest covers the protocol with a stand-in device");
        }
        Assumptions.assumeTrue(yes(MODULE.resolve("parameters/soft_noboot")),
                "softdog is loaded without soft_noboot=1: its expiry would reset this host, so the test does not arm it");
        Assumptions.assumeFalse(yes(MODULE.resolve("parameters/nowayout")),
                "softdog is loaded with nowayout=1: once armed it could never be closed");
        try (DirectoryStream<Path> all = Files.newDirectoryStream(Path.of("/sys/class/watchdog"))) {
            for (Path w : all) {
                if ("Software Watchdog".equals(readOrNull(w.resolve("identity")))) {
                    Assumptions.assumeTrue("inactive".equals(readOrNull(w.resolve("state"))),
                            "/dev/" + w.getFileName() + " (softdog) is held by another process");
                    return w;
                }
            }
        }
        Assumptions.abort("softdog is loaded but no /sys/class/watchdog entry names it");
        throw new AssertionError("unreachable");
    }

    /** How many times the kernel log says softdog expired ("softdog: Triggered - Reboot ignored"). */
    private static long triggered() throws IOException, InterruptedException {
        Process d = new ProcessBuilder("dmesg").redirectErrorStream(true).start();
        String log = new String(d.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        d.waitFor();
        return log.lines().filter(l -> l.contains("softdog") && l.contains("Triggered")).count();
    }

    private static boolean yes(Path p) {
        String v = readOrNull(p);
        return "Y".equals(v) || "1".equals(v);
    }

    private static String read(Path p) {
        String v = readOrNull(p);
        if (v == null) throw new AssertionError("cannot read " + p);
        return v;
    }

    private static String readOrNull(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            return null;
        }
    }

    private static String leader(Path sock) {
        Reply r = ControlClient.call(sock, "leader", Duration.ofSeconds(2));
        return r.exitCode() == 0 ? r.body().trim() : null;
    }
}
