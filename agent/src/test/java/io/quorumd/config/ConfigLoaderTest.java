package io.quorumd.config;

import static io.quorumd.config.ConfigFiles.MINIMAL;
import static io.quorumd.config.ConfigFiles.SPEC_EXAMPLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.command.RestartPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The schema: values, defaults, and one exact message per kind of mistake. */
class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("quorumd.yaml");
    }

    private String error(String text) throws IOException {
        return ConfigFiles.error(dir, text);
    }

    /** The message for MINIMAL plus {@code extra}, whose first line is line 10 of the file. */
    private String errorWith(String extra) throws IOException {
        return error(MINIMAL + extra);
    }

    private String at(int line, int column, String rest) {
        return file() + ":" + line + ":" + column + ": " + rest;
    }

    @Test
    void specExampleLoadsWithEveryValue() throws Exception {
        Config c = ConfigFiles.load(dir, SPEC_EXAMPLE);
        Config expected = new Config(file(), "payments", "node-a", "auto",
                List.of(new PeerConfig("node-a", "198.18.0.11", 51621, 100, null),
                        new PeerConfig("node-b", "198.18.0.12", 51621, 100, null),
                        new PeerConfig("node-c", "198.18.0.13", 51621, 100, null)),
                null,
                new TimingConfig(Duration.ofMillis(100), Duration.ofMillis(1000), 0.01),
                new CommandConfig(List.of("/usr/bin/my-service", "--primary"), false, Path.of("/var/lib/my-service"),
                        Map.of("KEY", "value"), Signal.TERM, Duration.ofSeconds(5), RestartPolicy.ON_FAILURE, 5,
                        Duration.ofSeconds(60)),
                new HooksConfig(Path.of("/etc/quorumd/hooks/master.sh"), Path.of("/etc/quorumd/hooks/follower.sh"),
                        Path.of("/etc/quorumd/hooks/fence.sh"), Duration.ofSeconds(10)),
                Path.of("/var/lib/quorumd"), Path.of("/run/quorumd/control.sock"), "info");
        assertEquals(expected, c);
        assertEquals("node-a", c.self().id());
        assertEquals(List.of("node-b", "node-c"), c.others().stream().map(PeerConfig::id).toList());
        assertTrue(c.nodeConfig().fenceConfigured());
        assertEquals(3, c.nodeConfig().peers().size());
    }

    @Test
    void leftOutSettingsTakeSpecDefaults() throws Exception {
        Config c = ConfigFiles.load(dir, """
                cluster: c1
                node: a
                peers:
                  - {id: a, host: 198.18.0.11}
                """);
        assertEquals("auto", c.bind());
        assertEquals(new PeerConfig("a", "198.18.0.11", 51621, 100, null), c.self());
        assertEquals(TimingConfig.defaults(), c.timing());
        assertNull(c.command());
        assertNull(c.hooks());
        assertEquals(Path.of("/var/lib/quorumd"), c.stateDir());
        assertEquals(Path.of("/run/quorumd/control.sock"), c.controlSocket());
        assertEquals("info", c.logLevel());
        assertEquals(List.of(), c.others());
    }

    @Test
    void commandAndHooksDefaults() throws Exception {
        Config c = ConfigFiles.load(dir, MINIMAL + """
                command:
                  exec: [my-service]
                hooks:
                  fence: /usr/local/bin/fence
                """);
        assertEquals(CommandConfig.of(List.of("my-service")), c.command());
        assertEquals(new CommandConfig(List.of("my-service"), false, null, Map.of(), Signal.TERM, Duration.ofSeconds(5),
                RestartPolicy.ON_FAILURE, 5, Duration.ofSeconds(60)), c.command());
        assertEquals(new HooksConfig(null, null, Path.of("/usr/local/bin/fence"), Duration.ofSeconds(10)), c.hooks());
    }

    @Test
    void sectionsWrittenWithoutAValueAreNotConfigured() throws Exception {
        Config c = ConfigFiles.load(dir, MINIMAL + "timing:\ncommand:\nhooks: ~\n");
        assertEquals(TimingConfig.defaults(), c.timing());
        assertNull(c.command());
        assertNull(c.hooks());
    }

    @Test
    void execAsAStringRunsThroughTheShell() throws Exception {
        Config c = ConfigFiles.load(dir, MINIMAL + "command:\n  exec: 'exec my-service --port \"$PORT\" 2>&1'\n");
        assertEquals(List.of("/bin/sh", "-c", "exec my-service --port \"$PORT\" 2>&1"), c.command().argv());
        assertTrue(c.command().shell());
        assertEquals("exec my-service --port \"$PORT\" 2>&1", c.command().script());
    }

    @Test
    void everyValueIsReadByTheSchemaNotByYamlGuesses() throws Exception {
        Config c = ConfigFiles.load(dir, """
                cluster: yes
                node: "1"
                peers:
                  - {id: "1", host: host-1.example., priority: 0}
                  - {id: off, host: "::1", port: 1}
                  - {id: '2', host: 0:0:0:0:0:0:0:1, port: 65534}
                timing: {heartbeat: 1m30s, election_timeout: 4m30s, clock_drift: 0.5%}
                command:
                  exec: ["/bin/echo", 1, true, "", null-ish]
                  env: {PORT: 8080, EMPTY: "", ON: on}
                  stop_signal: SIGKILL
                  stop_timeout: 0s
                  restart: always
                  max_restarts: 0
                """);
        assertEquals("yes", c.cluster());
        assertEquals(List.of(new PeerConfig("1", "host-1.example.", 51621, 0, null), new PeerConfig("off", "::1", 1, 100, null),
                new PeerConfig("2", "0:0:0:0:0:0:0:1", 65534, 100, null)), c.peers());
        assertEquals(new TimingConfig(Duration.ofSeconds(90), Duration.ofSeconds(270), 0.005), c.timing());
        assertEquals(List.of("/bin/echo", "1", "true", "", "null-ish"), c.command().argv());
        assertEquals(Map.of("PORT", "8080", "EMPTY", "", "ON", "on"), c.command().env());
        assertEquals(List.of("PORT", "EMPTY", "ON"), List.copyOf(c.command().env().keySet()));
        assertEquals(Signal.KILL, c.command().stopSignal());
        assertEquals(Duration.ZERO, c.command().stopTimeout());
        assertEquals(RestartPolicy.ALWAYS, c.command().restart());
        assertEquals(0, c.command().maxRestarts());
    }

    @Test
    void anchorsAndAliasesAreAllowed() throws Exception {
        Config c = ConfigFiles.load(dir, """
                cluster: c1
                node: a
                peers:
                  - {id: a, host: &h 127.0.0.1, port: 40001}
                  - {id: b, host: *h, port: 40003}
                """);
        assertEquals("127.0.0.1", c.peers().get(1).host());
    }

    @Test
    void aProblemWithAnAliasedValuePointsAtTheAlias() throws IOException {
        assertEquals(at(4, 19, "peers[0].host: must be a host name (letters, digits, '-' and '.') or an IP address"
                        + " (got \"db 1\")") + "\n"
                        + at(5, 19, "peers[1].host: must be a host name (letters, digits, '-' and '.') or an IP address"
                        + " (got *h = \"db 1\")"),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a, host: &h \"db 1\"}\n  - {id: b, host: *h}\n"));
    }

    // ---- missing, unknown and duplicate keys ----

    @Test
    void missingKeysPointAtTheEnclosingMapping() throws IOException {
        assertEquals(at(3, 1, "cluster: required key is missing") + "\n"
                        + at(3, 1, "peers: required key is missing"),
                error("# a comment\n\nnode: a\n"));
        assertEquals(at(7, 5, "peers[1].host: required key is missing"),
                error("cluster: c1\nnode: a\npeers:\n  - id: a\n    host: 127.0.0.1\n    port: 40001\n  - id: b\n"));
        assertEquals(at(11, 3, "command.exec: required key is missing"), errorWith("command:\n  workdir: /srv\n"));
    }

    @Test
    void anEmptyDocumentIsMissingEverythingAtLine1Column1() throws IOException {
        String expected = at(1, 1, "cluster: required key is missing") + "\n"
                + at(1, 1, "node: required key is missing") + "\n"
                + at(1, 1, "peers: required key is missing");
        assertEquals(expected, error(""));
        assertEquals(expected, error("# nothing but comments\n\n   # here\n"));
        assertEquals(expected, error("---\n"));
    }

    @Test
    void unknownKeysAreReportedAtTheKey() throws IOException {
        assertEquals(at(11, 3, "timing.heartbeet: unknown key; did you mean heartbeat? (got heartbeet)"),
                errorWith("timing:\n  heartbeet: 100ms\n"));
        assertEquals(at(10, 1, "election_timeout: unknown key; expected one of cluster, node, bind, security, peers, timing,"
                        + " command, hooks, state_dir, control_socket, kv, log_level, metrics, self_fence (got election_timeout)"),
                errorWith("election_timeout: 1s\n"));
        assertEquals(at(6, 5, "peers[0].prio: unknown key; did you mean priority? (got prio)"),
                error("cluster: c1\nnode: a\npeers:\n  - id: a\n    host: 127.0.0.1\n    prio: 5\n"));
        assertEquals(at(11, 3, "command.stop-signal: unknown key; did you mean stop_signal? (got stop-signal)"),
                errorWith("command:\n  stop-signal: TERM\n  exec: [x]\n"));
        assertEquals(at(10, 1, "<<: merge keys (<<) are not supported; write the settings out (got <<)"),
                errorWith("<<: {log_level: info}\n"));
    }

    @Test
    void duplicateKeysAreReportedAtTheSecondKey() throws IOException {
        assertEquals(at(10, 1, "cluster: duplicate key, first given at line 1; keep one (got cluster)"),
                errorWith("cluster: c2\n"));
        assertEquals(at(6, 5, "peers[0].host: duplicate key, first given at line 5; keep one (got host)"),
                error("cluster: c1\nnode: a\npeers:\n  - id: a\n    host: 127.0.0.1\n    host: 127.0.0.2\n"));
        assertEquals(at(11, 15, "command.env.A: duplicate key, first given at line 11; keep one (got A)"),
                errorWith("command:\n  env: {A: 1, A: 2}\n  exec: [x]\n"));
    }

    @Test
    void theTopLevelMustBeAMapping() throws IOException {
        assertEquals(at(1, 1, "the file must be a mapping of settings, starting with cluster:, node: and peers:"
                + " (got a list)"), error("- cluster: c1\n"));
        assertEquals(at(1, 1, "the file must be a mapping of settings, starting with cluster:, node: and peers:"
                + " (got cluster)"), error("cluster\n"));
    }

    @Test
    void aKeyMustBeAPlainName() throws IOException {
        assertEquals(at(10, 3, "a key must be a plain name (got a list)"), errorWith("? [a, b]\n: 1\n"));
    }

    // ---- names, node, bind, peers ----

    @Test
    void namesAreCheckedAndNodeMustBeAPeer() throws IOException {
        assertEquals(at(1, 10, "cluster: must be the cluster's name: letters, digits, '.', '_' and '-', at most 64"
                + " (got \"pay ments\")"), error(MINIMAL.replace("c1", "\"pay ments\"")));
        assertEquals(at(1, 9, "cluster: must be the cluster's name (got nothing)"), error(MINIMAL.replace(" c1", "")));
        assertEquals(at(1, 10, "cluster: must be the cluster's name (got ~)"), error(MINIMAL.replace("c1", "~")));
        assertEquals(at(1, 10, "cluster: must be the cluster's name (got a list)"), error(MINIMAL.replace("c1", "[c1]")));
        assertEquals(at(2, 7, "node: must be one of the peer ids a, b; list this node under peers too (got x)"),
                error(MINIMAL.replace("node: a", "node: x")));
        assertEquals(at(4, 9, "peers[0].id: must be the peer's id: letters, digits, '.', '_' and '-', at most 64"
                + " (got a/b)"), error(MINIMAL.replace("id: a", "id: a/b")));
    }

    @Test
    void bindIsAutoOrAnIpLiteral() throws Exception {
        assertEquals(at(10, 7, "bind: must be auto or an IP address, not a host name: quorumd binds before it may"
                + " trust DNS (got db1.example.com)"), errorWith("bind: db1.example.com\n"));
        assertEquals(at(10, 7, "bind: must be auto or an IP address of this host (got 300.1.1.1)"),
                errorWith("bind: 300.1.1.1\n"));
        assertEquals(at(10, 7, "bind: must be auto or an IP address of this host (got 010.0.0.1)"),
                errorWith("bind: 010.0.0.1\n"));
        assertEquals(at(10, 6, "bind: must be auto or an IP address of this host (got nothing)"), errorWith("bind:\n"));
        assertEquals("10.1.2.3", ConfigFiles.load(dir, MINIMAL + "bind: 10.1.2.3\n").bind());
        assertEquals("fe80::1%eth0", ConfigFiles.load(dir, MINIMAL + "bind: fe80::1%eth0\n").bind());
        assertEquals("0.0.0.0", ConfigFiles.load(dir, MINIMAL + "bind: 0.0.0.0\n").bind());
    }

    @Test
    void peersMustBeAListOfOneToNineMappings() throws IOException {
        String head = "cluster: c1\nnode: a\n";
        assertEquals(at(3, 8, "peers: must list every voter, this node included (got an empty list)"),
                error(head + "peers: []\n"));
        assertEquals(at(4, 3, "peers: must be a list of every voter, this node included, each with id and host"
                + " (got a mapping)"), error(head + "peers:\n  a: 127.0.0.1\n"));
        assertEquals(at(4, 5, "peers[0]: must be a mapping with id and host (and optionally port, priority) (got a)"),
                error(head + "peers:\n  - a\n"));
        StringBuilder ten = new StringBuilder("cluster: c1\nnode: n0\npeers:\n");
        for (int i = 0; i < 10; i++) ten.append("  - {id: n").append(i).append(", host: h").append(i).append("}\n");
        assertEquals(at(4, 3, "peers: at most 9 voters are supported (got 10 peers)"), error(ten.toString()));
    }

    @Test
    void peerHostsArePlausibleNamesOrAddresses() throws IOException {
        assertEquals(at(5, 11, "peers[0].host: must be a host name (letters, digits, '-' and '.') or an IP address"
                + " (got \"db 1\")"), error(MINIMAL.replaceFirst("127.0.0.1", "\"db 1\"")));
        assertEquals(at(5, 11, "peers[0].host: is not a valid IPv4 address (four numbers 0-255, no leading zeros)"
                + " (got 198.18.0.300)"), error(MINIMAL.replaceFirst("127.0.0.1", "198.18.0.300")));
        assertEquals(at(5, 11, "peers[0].host: is not a valid IPv6 address (got \"fe80::1::2\")"),
                error(MINIMAL.replaceFirst("127.0.0.1", "\"fe80::1::2\"")));
    }

    @Test
    void portsAndPriorities() throws IOException {
        String range = "must be a port number from 1 to 65534 (port + 1 is used too)";
        assertEquals(at(9, 11, "peers[1].port: " + range + " (got 0)"), error(MINIMAL.replace("40003", "0")));
        assertEquals(at(9, 11, "peers[1].port: " + range + " (got 65535)"), error(MINIMAL.replace("40003", "65535")));
        assertEquals(at(9, 11, "peers[1].port: " + range + " (got 0x9C43)"), error(MINIMAL.replace("40003", "0x9C43")));
        assertEquals(at(9, 11, "peers[1].port: " + range + ", written without quotes (got \"40003\")"),
                error(MINIMAL.replace("40003", "\"40003\"")));
        assertEquals(at(9, 15, "peers[1].priority: must be a whole number from 0 to 1000; higher is preferred as"
                + " master (got -1)"), error(MINIMAL.replace("port: 40003", "priority: -1")));
    }

    @Test
    void duplicatePeerIdsAreFoundEvenBesideOtherMistakes() throws IOException {
        assertEquals(String.join("\n",
                        at(2, 7, "node: must be one of the peer ids a, b; list this node under peers too (got x)"),
                        at(6, 10, "peers[2].id: duplicate peer id: peers[0] has it already; give every peer its own id"
                                + " (got a)"),
                        at(6, 19, "peers[2].host: must be a host name (letters, digits, '-' and '.') or an IP address"
                                + " (got \"h 1\")")),
                error("cluster: c1\nnode: x\npeers:\n  - {id: a, host: h1}\n  - {id: b, host: h2}\n"
                        + "  - {id: a, host: \"h 1\"}\n"));
    }

    @Test
    void duplicatePeerIds() throws IOException {
        assertEquals(at(7, 9, "peers[1].id: duplicate peer id: peers[0] has it already; give every peer its own id"
                + " (got a)"), error(MINIMAL.replace("id: b", "id: a")));
    }

    @Test
    void peersOnOneHostMustNotShareAPortPair() throws Exception {
        assertEquals(at(9, 11, "peers[1].port: ports 40002-40003 overlap ports 40001-40002 of peers[0] (a) on the"
                + " same host 127.0.0.1; on one host, keep ports at least 2 apart (got 40002)"),
                error(MINIMAL.replace("40003", "40002")));
        assertEquals(at(9, 11, "peers[1].port: ports 40000-40001 overlap ports 40001-40002 of peers[0] (a) on the"
                + " same host 127.0.0.1; on one host, keep ports at least 2 apart (got 40000)"),
                error(MINIMAL.replace("40003", "40000")));
        assertEquals(at(9, 11, "peers[1].port: ports 40001-40002 overlap ports 40001-40002 of peers[0] (a) on the"
                + " same host 127.0.0.1; on one host, keep ports at least 2 apart (got 40001)"),
                error(MINIMAL.replace("40003", "40001")));
        // spelled differently, still one host
        assertEquals(at(5, 5, "peers[1].port: the default ports 51621-51622 overlap ports 51621-51622 of peers[0] (a)"
                + " on the same host localhost.; on one host, keep ports at least 2 apart"),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a, host: LocalHost}\n  - {id: b, host: localhost.}\n"));
        assertEquals(at(5, 32, "peers[1].port: ports 7-8 overlap ports 8-9 of peers[0] (a) on the same host ::1;"
                + " on one host, keep ports at least 2 apart (got 7)"),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a, host: \"0:0::1\", port: 8}\n"
                        + "  - {id: b, host: \"::1\", port: 7}\n"));
        // two apart, or the same port on other hosts: fine
        ConfigFiles.load(dir, MINIMAL);
        ConfigFiles.load(dir, MINIMAL.replaceFirst("127.0.0.1", "127.0.0.2").replace("40003", "40001"));
    }

    // ---- timing ----

    @Test
    void durationsNeedAUnit() throws IOException {
        assertEquals(at(11, 14, "timing.heartbeat: a duration needs a unit (ms, s, m or h), e.g. 100ms or 100s"
                + " (got 100)"), errorWith("timing:\n  heartbeat: 100\n"));
        assertEquals(at(11, 14, "timing.heartbeat: must be more than 0, e.g. 250ms, 2s or 1m30s (got 0s)"),
                errorWith("timing:\n  heartbeat: 0s\n"));
        assertEquals(at(11, 21, "timing.election_timeout: whole numbers only: write 1500ms (got 1.5s)"),
                errorWith("timing:\n  election_timeout: 1.5s\n"));
        assertEquals(at(11, 19, "command.restart_window: must be more than 0, e.g. 250ms, 2s or 1m30s (got 0ms)"),
                errorWith("command:\n  restart_window: 0ms\n  exec: [x]\n"));
        assertEquals(at(11, 12, "hooks.timeout: units must go from the largest to the smallest, each once, e.g."
                + " 250ms, 2s or 1m30s (got 30s1m)"), errorWith("hooks:\n  timeout: 30s1m\n"));
        assertEquals(at(11, 17, "command.stop_timeout: must be a duration such as 0s, 250ms, 2s or 1m30s"
                + " (got a list)"), errorWith("command:\n  stop_timeout: [5s]\n  exec: [x]\n"));
    }

    @Test
    void electionTimeoutIsAtLeastThreeHeartbeats() throws Exception {
        assertEquals(at(12, 21, "timing.election_timeout: must be at least 3 x heartbeat (300ms), so that a few lost"
                + " keep-alives do not start an election (got 299ms)"),
                errorWith("timing:\n  heartbeat: 100ms\n  election_timeout: 299ms\n"));
        assertEquals(at(11, 14, "timing.heartbeat: must be at most a third of election_timeout (1s by default);"
                + " lower it or set election_timeout (got 400ms)"), errorWith("timing:\n  heartbeat: 400ms\n"));
        assertEquals(Duration.ofMillis(300), ConfigFiles.load(dir, MINIMAL
                + "timing:\n  heartbeat: 100ms\n  election_timeout: 300ms\n").timing().electionTimeout());
    }

    @Test
    void clockDriftIsAPercentageUpToTen() throws Exception {
        assertEquals(at(11, 16, "timing.clock_drift: must be a percentage from 0% to 10%, e.g. 1% (got 0.01)"),
                errorWith("timing:\n  clock_drift: 0.01\n"));
        assertEquals(at(11, 16, "timing.clock_drift: must be from 0% to 10%: a larger drift would make the master's"
                + " lease too short to be useful (got 10.5%)"), errorWith("timing:\n  clock_drift: 10.5%\n"));
        assertEquals(0.1, ConfigFiles.load(dir, MINIMAL + "timing: {clock_drift: 10%}\n").timing().clockDrift());
        assertEquals(0.0, ConfigFiles.load(dir, MINIMAL + "timing: {clock_drift: 0%}\n").timing().clockDrift());
        assertEquals(0.025, ConfigFiles.load(dir, MINIMAL + "timing: {clock_drift: 2.5%}\n").timing().clockDrift());
    }

    // ---- command and hooks ----

    @Test
    void execMustBeAnArgvListOrAString() throws IOException {
        String expected = "must be a list (the program and its arguments) or a string run by /bin/sh -c";
        assertEquals(at(11, 9, "command.exec: " + expected + " (got a mapping)"),
                errorWith("command:\n  exec: {a: b}\n"));
        assertEquals(at(11, 8, "command.exec: " + expected + " (got nothing)"), errorWith("command:\n  exec:\n"));
        assertEquals(at(11, 9, "command.exec: must not be empty: give the program and its arguments"
                + " (got an empty list)"), errorWith("command:\n  exec: []\n"));
        assertEquals(at(11, 9, "command.exec: the shell command must not be empty (got \"  \")"),
                errorWith("command:\n  exec: \"  \"\n"));
        assertEquals(at(11, 18, "command.exec[1]: must be a string (got a list)"),
                errorWith("command:\n  exec: [/bin/x, [a]]\n"));
        assertEquals(at(11, 10, "command.exec[0]: the program must not be empty (got \"\")"),
                errorWith("command:\n  exec: [\"\", a]\n"));
        assertEquals(at(11, 10, "command.exec[0]: the program must be an absolute path or a bare name looked up in"
                + " PATH; a relative path would depend on the agent's working directory (got bin/run)"),
                errorWith("command:\n  exec: [bin/run]\n"));
        assertEquals(at(11, 3, "command: must be a mapping with at least exec (got a list)"),
                errorWith("command:\n  - /bin/x\n"));
    }

    @Test
    void stopSignalNamesAreUpperCaseWithOrWithoutSig() throws Exception {
        for (String s : List.of("TERM", "SIGTERM")) {
            assertEquals(Signal.TERM,
                    ConfigFiles.load(dir, MINIMAL + "command: {exec: [x], stop_signal: " + s + "}\n").command().stopSignal());
        }
        assertEquals(at(10, 35, "command.stop_signal: signal names are upper case: write SIGTERM (got sigterm)"),
                errorWith("command: {exec: [x], stop_signal: sigterm}\n"));
        assertEquals(at(10, 35, "command.stop_signal: unknown signal; use TERM, INT, HUP, QUIT, USR1, USR2 or KILL,"
                + " with or without SIG (got STOP)"), errorWith("command: {exec: [x], stop_signal: STOP}\n"));
        assertEquals(at(10, 35, "command.stop_signal: unknown signal; use TERM, INT, HUP, QUIT, USR1, USR2 or KILL,"
                + " with or without SIG (got 15)"), errorWith("command: {exec: [x], stop_signal: 15}\n"));
    }

    @Test
    void restartPolicyAndMaxRestarts() throws IOException {
        assertEquals(at(10, 31, "command.restart: must be never, on-failure or always (got on_failure)"),
                errorWith("command: {exec: [x], restart: on_failure}\n"));
        assertEquals(at(10, 36, "command.max_restarts: must be a whole number, 0 or more (got -1)"),
                errorWith("command: {exec: [x], max_restarts: -1}\n"));
    }

    @Test
    void workdirAndHooksAreAbsolutePaths() throws IOException {
        assertEquals(at(10, 31, "command.workdir: must be an absolute path (got srv)"),
                errorWith("command: {exec: [x], workdir: srv}\n"));
        assertEquals(at(10, 20, "hooks.on_master: must be an absolute path to an executable file (got master.sh)"),
                errorWith("hooks: {on_master: master.sh}\n"));
        assertEquals(at(10, 8, "hooks: must be a mapping with on_master, on_follower, fence or timeout"
                + " (got /bin/fence)"), errorWith("hooks: /bin/fence\n"));
    }

    @Test
    void envNamesAndValues() throws IOException {
        assertEquals(at(10, 28, "command.env.1A: an environment variable name is letters, digits and '_', not"
                + " starting with a digit (got 1A)"), errorWith("command: {exec: [x], env: {1A: x}}\n"));
        assertEquals(at(10, 28, "command.env.QUORUMD_TERM: QUORUMD_* variables are set by quorumd itself; choose"
                + " another name (got QUORUMD_TERM)"), errorWith("command: {exec: [x], env: {QUORUMD_TERM: 9}}\n"));
        assertEquals(at(10, 30, "command.env.A: must be a single value; write \"\" for an empty one (got nothing)"),
                errorWith("command: {exec: [x], env: {A: }}\n"));
        assertEquals(at(10, 27, "command.env: must be a mapping of NAME: value (got a list)"),
                errorWith("command: {exec: [x], env: [A=1]}\n"));
    }

    // ---- paths and log level ----

    @Test
    void pathsLogLevelAndSocketLength() throws IOException {
        assertEquals(at(10, 12, "state_dir: must be an absolute path (got var/lib/quorumd)"),
                errorWith("state_dir: var/lib/quorumd\n"));
        String longPath = "/run/" + "q".repeat(100) + ".sock";
        assertEquals(at(10, 17, "control_socket: a Unix socket path is at most 107 bytes; choose a shorter one (got "
                + longPath.substring(0, 77) + "...)"), errorWith("control_socket: " + longPath + "\n"));
        assertEquals(at(10, 12, "log_level: must be one of error, warn, info, debug or trace (got verbose)"),
                errorWith("log_level: verbose\n"));
        assertEquals(at(10, 12, "log_level: must be one of error, warn, info, debug or trace (got INFO)"),
                errorWith("log_level: INFO\n"));
    }

    @Test
    void everyProblemIsReportedInFileOrder() throws IOException {
        String msg = error("""
                log_level: loud
                cluster: c1
                node: a
                peers:
                  - {id: a, host: 127.0.0.1, port: 99999}
                timing: {heartbeat: 5}
                colour: blue
                """);
        assertEquals(String.join("\n",
                at(1, 12, "log_level: must be one of error, warn, info, debug or trace (got loud)"),
                at(5, 36, "peers[0].port: must be a port number from 1 to 65534 (port + 1 is used too) (got 99999)"),
                at(6, 21, "timing.heartbeat: a duration needs a unit (ms, s, m or h), e.g. 5ms or 5s (got 5)"),
                at(7, 1, "colour: unknown key; expected one of cluster, node, bind, security, peers, timing, command, hooks,"
                        + " state_dir, control_socket, kv, log_level, metrics, self_fence (got colour)")), msg);
    }

    @Test
    void theExceptionListsItsProblems() throws IOException {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.load(ConfigFiles.write(dir, "cluster: c1\n")));
        assertEquals(2, e.problems().size());
        assertEquals(new ConfigProblem(file(), new Position(1, 1), "node", "required key is missing", null),
                e.problems().get(0));
    }

    @Test
    void positionsOfSettingsAndOfDefaults() throws Exception {
        LoadedConfig l = ConfigLoader.loadWithPositions(ConfigFiles.write(dir, MINIMAL
                + "command:\n  exec: [/bin/run, -x]\nhooks:\n  fence: /bin/fence\nstate_dir: /srv/q\n"));
        Positions p = l.positions();
        assertEquals(new Position(11, 10), p.at("command.exec[0]"));
        assertEquals(new Position(11, 20), p.at("command.exec[1]"));
        assertEquals(new Position(13, 10), p.at("hooks.fence"));
        assertEquals(new Position(14, 12), p.at("state_dir"));
        assertEquals(new Position(9, 11), p.at("peers[1].port"));
        // left to their defaults: the enclosing mapping
        assertEquals(new Position(1, 1), p.at("control_socket"));
        assertEquals(new Position(13, 3), p.at("hooks.on_master"));
        assertEquals(new Position(11, 3), p.at("command.workdir"));
        assertEquals(new Position(1, 1), p.at("timing.heartbeat"));
    }
}
