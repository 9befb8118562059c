package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.command.RestartPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigPrinterTest {
    @TempDir
    Path dir;

    /** Print, load the print, and compare: equal but for command.env's values, printed as <hidden>. */
    private Config roundTrip(Config c) throws IOException, ConfigException {
        String yaml = ConfigPrinter.toYaml(c);
        Path f = dir.resolve("printed.yaml");
        java.nio.file.Files.writeString(f, yaml);
        Config back;
        try {
            back = ConfigLoader.load(f);
        } catch (ConfigException e) {
            throw new AssertionError(e.getMessage() + "\n" + yaml, e);
        }
        assertEquals(hideEnv(c).withSource(f), back, yaml);
        return back;
    }

    /** {@code c} with every command.env value replaced by what the printer prints instead. */
    static Config hideEnv(Config c) {
        CommandConfig cmd = c.command();
        if (cmd == null) return c;
        Map<String, String> hidden = new LinkedHashMap<>();
        for (String name : cmd.env().keySet()) hidden.put(name, ConfigPrinter.HIDDEN);
        return new Config(c.source(), c.cluster(), c.node(), c.bind(), c.peers(), c.security(), c.timing(),
                new CommandConfig(cmd.argv(), cmd.shell(), cmd.workdir(), hidden, cmd.stopSignal(), cmd.stopTimeout(),
                        cmd.restart(), cmd.maxRestarts(), cmd.restartWindow()),
                c.hooks(), c.stateDir(), c.controlSocket(), c.logLevel());
    }

    @Test
    void specExamplePrintsEveryDefaultInSpecOrder() throws Exception {
        Path f = ConfigFiles.write(dir, ConfigFiles.SPEC_EXAMPLE);
        Config c = ConfigLoader.load(f);
        ResolvedBind bind = new ResolvedBind(InetAddress.getLoopbackAddress(), "bind: auto resolved to 127.0.0.1 (lo, default route)");
        assertEquals("""
                # quorumd: resolved settings of %s, defaults filled in
                cluster: payments
                node: node-a
                bind: auto   # bind: auto resolved to 127.0.0.1 (lo, default route)
                # security: none; trusted mode: any process on a peer's host can speak for that peer; use CURVE (quorumd keygen)
                peers:
                  - id: node-a
                    host: 198.18.0.11
                    port: 51621
                    priority: 100
                  - id: node-b
                    host: 198.18.0.12
                    port: 51621
                    priority: 100
                  - id: node-c
                    host: 198.18.0.13
                    port: 51621
                    priority: 100
                timing:
                  heartbeat: 100ms
                  election_timeout: 1s
                  clock_drift: 1%%
                  preempt_delay: "off"   # a higher-priority peer never takes over a healthy master
                  # the master's lease: 980.198ms = election_timeout x (1 - clock_drift) / (1 + clock_drift)
                command:
                  exec: ["/usr/bin/my-service", "--primary"]
                  workdir: /var/lib/my-service
                  env: {KEY: <hidden>}
                  stop_signal: TERM
                  stop_timeout: 5s
                  restart: on-failure
                  max_restarts: 5
                  restart_window: 1m
                hooks:
                  on_master: /etc/quorumd/hooks/master.sh
                  on_follower: /etc/quorumd/hooks/follower.sh
                  fence: /etc/quorumd/hooks/fence.sh
                  timeout: 10s
                state_dir: /var/lib/quorumd
                control_socket: /run/quorumd/control.sock
                kv:
                  max_bytes: 64MiB
                  snapshot_entries: 10000
                log_level: info
                # metrics: off
                self_fence:
                  mode: "off"
                  device: /dev/watchdog
                """.formatted(f), ConfigPrinter.toYaml(c, bind));
        roundTrip(c);
    }

    @Test
    void minimalConfigPrintsItsDefaultsAndLoadsBack() throws Exception {
        Config c = ConfigFiles.load(dir, ConfigFiles.MINIMAL);
        String yaml = ConfigPrinter.toYaml(c);
        assertTrue(yaml.contains("\n# command: none; quorumd elects a master and runs hooks only\n# hooks: none\n"), yaml);
        assertTrue(yaml.contains("\nbind: auto\n"), yaml);
        assertTrue(yaml.contains("\n    priority: 100\n"), yaml);
        roundTrip(c);
    }

    @Test
    void topLevelKeysInSpecOrder() throws Exception {
        String yaml = ConfigPrinter.toYaml(ConfigFiles.load(dir, ConfigFiles.SPEC_EXAMPLE));
        List<String> keys = new ArrayList<>();
        for (String line : yaml.split("\n")) {
            if (!line.isEmpty() && Character.isLetter(line.charAt(0))) keys.add(line.substring(0, line.indexOf(':')));
        }
        assertEquals(List.of("cluster", "node", "bind", "peers", "timing", "command", "hooks", "state_dir",
                "control_socket", "kv", "log_level", "self_fence"), keys);
    }

    @Test
    void awkwardStringsSurviveTheRoundTrip() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("QUOTE", "say \"hi\"\\ now");
        env.put("LINES", "a\nb\tc\r");
        env.put("YES", "yes");
        env.put("NUM", "0x10");
        env.put("EMPTY", "");
        env.put("COLON", "a: b, [c] {d} #e");
        env.put("UNICODE", "gr\u00fc\u00df \ud83d\ude00 \u2028");
        env.put("NULL", "~");
        env.put("N", "null");
        env.put("DASH", "-x");
        Config c = new Config(null, "1", "1", "::1",
                List.of(new PeerConfig("1", "::1", 1, 0, null), new PeerConfig("off", "host.example.", 65534, 1000, null),
                        new PeerConfig("2.5", "fe80::1", 3, 7, null)),
                null,
                new TimingConfig(Duration.ofMillis(1500), Duration.ofSeconds(90), 0.005),
                new CommandConfig(awkwardArgv(env), false,
                        Path.of("/srv/with space"), env, Signal.USR2, Duration.ZERO, RestartPolicy.NEVER, 0,
                        Duration.ofHours(2)),
                new HooksConfig(Path.of("/h/on master"), null, null, Duration.ofMillis(1)),
                Path.of("/var/lib/q d"), Path.of("/run/q.sock"), "trace");
        roundTrip(c);
    }

    /** The awkward values go through argv too, now that env values are hidden. */
    private static List<String> awkwardArgv(Map<String, String> env) {
        List<String> argv = new ArrayList<>(List.of("/opt/my app/bin", "--x=\"1\"", "", "#", "*a", "&b", "!c", "% d"));
        argv.addAll(env.values());
        return argv;
    }

    @Test
    void theShellFormPrintsAsAString() throws Exception {
        Config c = ConfigFiles.load(dir, ConfigFiles.MINIMAL + "command:\n  exec: \"exec sleep 1 | cat\"\n");
        assertTrue(ConfigPrinter.toYaml(c).contains("\n  exec: \"exec sleep 1 | cat\"   # run by /bin/sh -c\n"));
        roundTrip(c);
    }

    @Test
    void percentages() {
        assertEquals("1%", ConfigPrinter.percent(0.01));
        assertEquals("0.5%", ConfigPrinter.percent(0.005));
        assertEquals("10%", ConfigPrinter.percent(0.1));
        assertEquals("0%", ConfigPrinter.percent(0.0));
        assertEquals("2.25%", ConfigPrinter.percent(0.0225));
    }

    @Test
    void scalarsArePlainOnlyWhenEveryYamlReaderTakesThemForStrings() {
        for (String plain : List.of("node-a", "198.18.0.11", "100ms", "/var/lib/quorumd", "host.example.", "a_b", "1%")) {
            assertEquals(plain, ConfigPrinter.scalar(plain));
        }
        for (String quoted : List.of("1", "1.5", "0x10", "1e5", "2024-01-02", "yes", "No", "ON", "null", "~", "",
                "-x", "a b", "a:b", "::1", "#c", "*a", "&a", "!a", "[a]", "{a}", "a,b", "'a'", ".5")) {
            assertEquals('"', ConfigPrinter.scalar(quoted).charAt(0), quoted);
        }
    }
}
