package io.quorumd.config;

import static io.quorumd.config.ConfigFiles.MINIMAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SPEC "Operations": {@code metrics.listen} and {@code self_fence}, read, defaulted, refused with FILE:LINE:COL. */
class OperationsConfigTest {
    @TempDir
    Path dir;

    private String at(int line, int column, String rest) {
        return dir.resolve("quorumd.yaml") + ":" + line + ":" + column + ": " + rest;
    }

    private String errorWith(String extra) throws IOException {
        return ConfigFiles.error(dir, MINIMAL + extra);
    }

    @Test
    void offByDefault() throws Exception {
        Config c = ConfigFiles.load(dir, MINIMAL);
        assertNull(c.metrics());
        assertEquals(SelfFenceConfig.Mode.OFF, c.selfFence().mode());
        assertEquals(Path.of("/dev/watchdog"), c.selfFence().device());
    }

    @Test
    void metricsListenIsReadAsHostAndPort() throws Exception {
        assertEquals(new MetricsConfig("127.0.0.1", 9851),
                ConfigFiles.load(dir, MINIMAL + "metrics:\n  listen: 127.0.0.1:9851\n").metrics());
        assertEquals(new MetricsConfig("::1", 9851),
                ConfigFiles.load(dir, MINIMAL + "metrics:\n  listen: \"[::1]:9851\"\n").metrics());
    }

    @Test
    void aBadListenIsRefusedAtItsValue() throws IOException {
        assertEquals(at(11, 11, "metrics.listen: the port must be a number from 1 to 65535 (got 127.0.0.1:99999)"),
                errorWith("metrics:\n  listen: 127.0.0.1:99999\n"));
        assertEquals(at(11, 11, "metrics.listen: must be an IP address and a port, such as 127.0.0.1:9851 or [::1]:9851"
                + " (got 9851)"), errorWith("metrics:\n  listen: 9851\n"));
        assertEquals(at(11, 11, "metrics.listen: the host must be an IP address of this host (an IP address and a port,"
                + " such as 127.0.0.1:9851 or [::1]:9851), not a host name (got prometheus.example:9851)"),
                errorWith("metrics:\n  listen: prometheus.example:9851\n"));
        assertEquals(at(11, 11, "metrics.listen: an IPv6 address goes in brackets: [::1]:9851 (got ::1:9851)"),
                errorWith("metrics:\n  listen: ::1:9851\n"));
        assertEquals(at(12, 3, "metrics.port: unknown key; expected one of listen (got port)"),
                errorWith("metrics:\n  listen: 127.0.0.1:9851\n  port: 9851\n"));
    }

    @Test
    void checkRefusesAListenAddressOfAnotherHost() throws Exception {
        Path f = ConfigFiles.write(dir, MINIMAL + "metrics:\n  listen: 192.0.2.77:9851\n"
                + "state_dir: " + dir.resolve("state") + "\ncontrol_socket: " + dir.resolve("c.sock") + "\n");
        List<String> problems = ConfigChecker.check(ConfigLoader.loadWithPositions(f));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith(f + ":11:11: metrics.listen: cannot listen on 192.0.2.77")),
                problems.toString());
    }

    @Test
    void preemptDelayIsOffByDefaultOrADurationOfAtLeastTheElectionTimeout() throws Exception {
        assertNull(ConfigFiles.load(dir, MINIMAL).timing().preemptDelay());
        assertNull(ConfigFiles.load(dir, MINIMAL + "timing:\n  preempt_delay: off\n").timing().preemptDelay());
        Config c = ConfigFiles.load(dir, MINIMAL + "timing:\n  preempt_delay: 30s\n");
        assertEquals(java.time.Duration.ofSeconds(30), c.timing().preemptDelay());
        assertEquals(30_000_000_000L, c.nodeConfig().preemptDelayNanos());
        assertEquals(io.quorumd.core.NodeConfig.PREEMPT_OFF, ConfigFiles.load(dir, MINIMAL).nodeConfig().preemptDelayNanos());
        // exactly t is enough
        assertEquals(java.time.Duration.ofSeconds(1),
                ConfigFiles.load(dir, MINIMAL + "timing:\n  preempt_delay: 1s\n").timing().preemptDelay());
        assertEquals(at(11, 18, "timing.preempt_delay: must be off or a duration: must be more than 0, e.g. 250ms, 2s"
                + " or 1m30s (got -5s)"), errorWith("timing:\n  preempt_delay: -5s\n"));
        assertEquals(at(11, 18, "timing.preempt_delay: must be off or a duration: must be more than 0, e.g. 250ms, 2s"
                + " or 1m30s (got 0s)"), errorWith("timing:\n  preempt_delay: 0s\n"));
        assertEquals(at(11, 18, "timing.preempt_delay: must be off or a duration: a duration needs a unit (ms, s, m or h),"
                + " e.g. 30ms or 30s (got 30)"), errorWith("timing:\n  preempt_delay: 30\n"));
        assertEquals(at(12, 18, "timing.preempt_delay: must be off or at least election_timeout (2s), so that a peer takes"
                + " over only after it has heard the master for a whole election timeout (got 1500ms)"),
                errorWith("timing:\n  election_timeout: 2s\n  preempt_delay: 1500ms\n"));
        assertEquals(at(11, 18, "timing.preempt_delay: must be off or a duration such as 30s (got a list)"),
                errorWith("timing:\n  preempt_delay: [1s]\n"));
    }

    @Test
    void preemptDelayIsPrinted() throws Exception {
        assertTrue(ConfigPrinter.toYaml(ConfigFiles.load(dir, MINIMAL + "timing:\n  preempt_delay: 1m30s\n"))
                .contains("\n  preempt_delay: 1m30s   # a healthy higher-priority peer takes over by hand-over after it\n"));
        assertTrue(ConfigPrinter.toYaml(ConfigFiles.load(dir, MINIMAL))
                .contains("\n  preempt_delay: \"off\"   # a higher-priority peer never takes over a healthy master\n"));
    }

    @Test
    void selfFenceModes() throws Exception {
        SelfFenceConfig s = ConfigFiles.load(dir, MINIMAL + "self_fence:\n  mode: required\n  device: /tmp/wd\n").selfFence();
        assertEquals(new SelfFenceConfig(SelfFenceConfig.Mode.REQUIRED, Path.of("/tmp/wd")), s);
        assertEquals(SelfFenceConfig.Mode.AUTO, ConfigFiles.load(dir, MINIMAL + "self_fence: {mode: auto}\n").selfFence().mode());
        assertEquals(at(11, 9, "self_fence.mode: must be off, auto or required (got always)"),
                errorWith("self_fence:\n  mode: always\n"));
        assertEquals(at(11, 11, "self_fence.device: must be an absolute path to a watchdog device (got dev/watchdog)"),
                errorWith("self_fence:\n  device: dev/watchdog\n"));
    }

    @Test
    void checkRefusesRequiredWithoutTheDevice() throws Exception {
        Path f = ConfigFiles.write(dir, MINIMAL + "self_fence:\n  mode: required\n  device: " + dir.resolve("no-wd") + "\n"
                + "state_dir: " + dir.resolve("state") + "\ncontrol_socket: " + dir.resolve("c.sock") + "\n");
        List<String> problems = ConfigChecker.check(ConfigLoader.loadWithPositions(f));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith(f + ":12:11: self_fence.device: does not exist")),
                problems.toString());
        Files.writeString(dir.resolve("no-wd"), "");
        assertTrue(ConfigChecker.check(ConfigLoader.loadWithPositions(f)).stream().noneMatch(p -> p.contains("self_fence")));
    }

    @Test
    void thePrintedSettingsLoadBackEqual() throws Exception {
        Config c = ConfigFiles.load(dir, MINIMAL + "metrics: {listen: \"[::1]:9851\"}\nself_fence: {mode: auto}\n");
        String yaml = ConfigPrinter.toYaml(c);
        assertTrue(yaml.contains("metrics:\n  listen: \"[::1]:9851\"\n"), yaml);
        Config back = ConfigLoader.load(ConfigFiles.write(dir, yaml));
        assertEquals(c.withSource(null), back.withSource(null));
    }
}
