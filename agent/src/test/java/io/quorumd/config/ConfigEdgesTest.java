package io.quorumd.config;

import static io.quorumd.config.ConfigFiles.MINIMAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader at the edges of its limits and on the paths PIT found untested (issue 16): each
 * limit accepted at its value and refused one past it, NUL characters in what becomes an argv or
 * an environment, where each setting is recorded, and the text's own line and column rules.
 */
class ConfigEdgesTest {
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("quorumd.yaml");
    }

    private String error(String text) throws IOException {
        return ConfigFiles.error(dir, text);
    }

    private String errorWith(String extra) throws IOException {
        return error(MINIMAL + extra);
    }

    private Config load(String text) throws Exception {
        return ConfigFiles.load(dir, text);
    }

    private String at(int line, int column, String rest) {
        return file() + ":" + line + ":" + column + ": " + rest;
    }

    // ---- limits: the last value accepted, the first refused ----

    @Test
    void aNameOfSixtyFourCharactersIsTheLongest() throws Exception {
        String longest = "c".repeat(64);
        assertEquals(longest, load(MINIMAL.replace("c1", longest)).cluster());
        assertEquals(at(1, 10, "cluster: must be the cluster's name: letters, digits, '.', '_' and '-', at most 64"
                + " (got " + longest + "c)"), error(MINIMAL.replace("c1", longest + "c")));
    }

    @Test
    void ninePeersAreTheMost() throws Exception {
        StringBuilder nine = new StringBuilder("cluster: c1\nnode: n0\npeers:\n");
        for (int i = 0; i < 9; i++) nine.append("  - {id: n").append(i).append(", host: h").append(i).append("}\n");
        assertEquals(9, load(nine.toString()).peers().size());
    }

    @Test
    void aHostNameOf253CharactersIsTheLongest() throws Exception {
        String label = "a".repeat(63);
        String longest = label + "." + label + "." + label + "." + "b".repeat(61);
        assertEquals(253, longest.length());
        assertEquals(longest, load(MINIMAL.replaceFirst("127.0.0.1", longest)).peers().get(0).host());
        assertEquals(at(5, 11, "peers[0].host: must be a host name or an IP address (got " + ValueReader.clip(longest + "b")
                + ")"), error(MINIMAL.replaceFirst("127.0.0.1", longest + "b")));
    }

    @Test
    void anEmptyHostOrABareDotIsNoHost() throws IOException {
        assertEquals(at(5, 11, "peers[0].host: must be a host name or an IP address (got \"\")"),
                error(MINIMAL.replaceFirst("127.0.0.1", "\"\"")));
        assertEquals(at(5, 11, "peers[0].host: must be a host name or an IP address (got .)"),
                error(MINIMAL.replaceFirst("127.0.0.1", ".")));
    }

    @Test
    void aBracketedIpv6HostIsTheSameHostAsItsPlainForm() throws IOException {
        assertEquals(at(5, 32, "peers[1].port: ports 9-10 overlap ports 8-9 of peers[0] (a) on the same host ::1;"
                        + " on one host, keep ports at least 2 apart (got 9)"),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a, host: \"[::1]\", port: 8}\n"
                        + "  - {id: b, host: \"::1\", port: 9}\n"));
    }

    @Test
    void aControlSocketPathOf107BytesIsTheLongest() throws Exception {
        String longest = "/run/" + "q".repeat(97) + ".sock";
        assertEquals(107, longest.length());
        assertEquals(Path.of(longest), load(MINIMAL + "control_socket: " + longest + "\n").controlSocket());
        assertEquals(at(10, 17, "control_socket: a Unix socket path is at most 107 bytes; choose a shorter one (got "
                + ValueReader.clip("/run/q" + longest.substring(5)) + ")"),
                errorWith("control_socket: /run/q" + longest.substring(5) + "\n"));
    }

    @Test
    void aKvStoreOfOneKibibyteIsTheSmallest() throws Exception {
        assertEquals(1024, load(MINIMAL + "kv: {max_bytes: 1KiB}\n").kv().maxBytes());
        assertEquals(at(10, 17, "kv.max_bytes: must be at least 1KiB (got 1023)"), errorWith("kv: {max_bytes: 1023}\n"));
    }

    @Test
    void metricsPortsFromOneTo65535AndAHostBeforeTheColon() throws Exception {
        assertEquals(new MetricsConfig("127.0.0.1", 1), load(MINIMAL + "metrics: {listen: \"127.0.0.1:1\"}\n").metrics());
        assertEquals(new MetricsConfig("127.0.0.1", 65535),
                load(MINIMAL + "metrics: {listen: \"127.0.0.1:65535\"}\n").metrics());
        assertEquals(at(10, 19, "metrics.listen: must be an IP address and a port, such as 127.0.0.1:9851 or [::1]:9851"
                + " (got \":9851\")"), errorWith("metrics: {listen: \":9851\"}\n"));
    }

    // ---- NUL characters, which only a YAML escape can write ----

    @Test
    void noNulInTheCommandItsArgumentsOrItsEnvironment() throws IOException {
        assertEquals(at(11, 9, "command.exec: must not contain a NUL character (got \"\\0run\")"),
                errorWith("command:\n  exec: \"\\0run\"\n"));
        assertEquals(at(11, 10, "command.exec[0]: must not contain a NUL character (got \"\\0x\")"),
                errorWith("command:\n  exec: [\"\\0x\"]\n"));
        assertEquals(at(12, 12, "command.env.A: must not contain a NUL character (got \"\\0\")"),
                errorWith("command:\n  exec: [x]\n  env: {A: \"\\0\"}\n"));
    }

    // ---- what an unknown key is taken for ----

    @Test
    void anUnknownKeyIsMatchedToTheNearestKnownOne() throws IOException {
        // "post" is one edit from host and from port: the first in the schema's order wins
        assertEquals(at(4, 5, "peers[0].post: unknown key; did you mean host? (got post)"),
                error("cluster: c1\nnode: a\npeers:\n  - post: 1\n    id: a\n    host: h1\n"));
        // two edits away is still a suggestion
        assertEquals(at(11, 3, "timing.hartbet: unknown key; did you mean heartbeat? (got hartbet)"),
                errorWith("timing:\n  hartbet: 100ms\n"));
        // three letters that start a key
        assertEquals(at(11, 3, "timing.ele: unknown key; did you mean election_timeout? (got ele)"),
                errorWith("timing:\n  ele: 1s\n"));
        assertEquals(at(10, 1, "x: unknown key; did you mean kv? (got x)"), errorWith("x: 1\n"));
    }

    @Test
    void aCurveWrittenWithoutAValueIsRefusedAtTheValue() throws IOException {
        List<String> lines = List.of(errorWith("security:\n  curve:\n").split("\n"));
        assertTrue(lines.contains(at(11, 9, "security.curve: must be a mapping with key: the path of this node's key"
                + " pair (the PATH_secret file of quorumd keygen --out PATH) (got nothing)")), lines.toString());
    }

    // ---- how many problems are listed ----

    @Test
    void fiftyProblemsAreListedAndTheRestCounted() throws IOException {
        String head = "cluster: c1\nnode: a\npeers:\n  - {id: a, host: h1}\n";
        StringBuilder fifty = new StringBuilder(head);
        for (int i = 0; i < 50; i++) fifty.append("zz").append(i).append(": 1\n");
        List<String> lines = List.of(error(fifty.toString()).split("\n"));
        assertEquals(50, lines.size());
        assertEquals(at(54, 1, "zz49: unknown key; expected one of cluster, node, bind, security, peers, timing,"
                + " command, hooks, state_dir, control_socket, kv, log_level, metrics, self_fence (got zz49)"),
                lines.get(49));
        fifty.append("zz50: 1\nzz51: 1\n");
        lines = List.of(error(fifty.toString()).split("\n"));
        assertEquals(51, lines.size());
        assertTrue(lines.get(49).startsWith(at(54, 1, "zz49: ")), lines.get(49));
        assertEquals(file() + ": 2 more problems not shown", lines.get(50));
    }

    // ---- one problem, not two ----

    @Test
    void aWrongNodeValueIsOneProblemNotAlsoAStrangerToThePeers() throws IOException {
        assertEquals(at(2, 7, "node: must be this node's id, one of peers[].id (got a list)"),
                error(MINIMAL.replace("node: a", "node: [a]")));
    }

    @Test
    void twoWrongHostsAreTwoProblemsNotAlsoAPortClash() throws IOException {
        assertEquals(String.join("\n",
                        at(4, 19, "peers[0].host: must be a host name (letters, digits, '-' and '.') or an IP address"
                                + " (got \"h 1\")"),
                        at(5, 19, "peers[1].host: must be a host name (letters, digits, '-' and '.') or an IP address"
                                + " (got \"h 2\")")),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a, host: \"h 1\"}\n  - {id: b, host: \"h 2\"}\n"));
    }

    @Test
    void twoMissingHostsOrTwoQuotedPortsAreTwoProblemsNotAlsoAPortClash() throws IOException {
        assertEquals(String.join("\n",
                        at(4, 5, "peers[0].host: required key is missing"),
                        at(5, 5, "peers[1].host: required key is missing")),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a}\n  - {id: b}\n"));
        String quoted = "must be a port number from 1 to 65534 (port + 1 is used too), written without quotes";
        assertEquals(String.join("\n",
                        at(4, 29, "peers[0].port: " + quoted + " (got \"40001\")"),
                        at(5, 29, "peers[1].port: " + quoted + " (got \"40003\")")),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a, host: h1, port: \"40001\"}\n"
                        + "  - {id: b, host: h1, port: \"40003\"}\n"));
    }

    @Test
    void aTagAfterAnAliasIsNamedByItsOwnKey() throws IOException {
        assertEquals(at(5, 29, "peers[1].port: YAML tags are not allowed; write the plain value without !!int"
                        + " (got !!int)"),
                error("cluster: c1\nnode: a\npeers:\n  - {id: a, host: &h 127.0.0.1, port: 40001}\n"
                        + "  - {id: b, host: *h, port: !!int 40003}\n"));
    }

    // ---- where each setting was written ----

    @Test
    void everySettingAndEveryDefaultHasItsPosition() throws Exception {
        LoadedConfig l = ConfigLoader.loadWithPositions(ConfigFiles.write(dir, MINIMAL
                + "command:\n  exec: [/bin/run]\n  env:\n    A: x\ntiming:\n  heartbeat: 100ms\n"));
        Positions p = l.positions();
        assertEquals(new Position(4, 3), p.at("peers"));
        assertEquals(new Position(4, 5), p.at("peers[0]"));
        assertEquals(new Position(7, 5), p.at("peers[1]"));
        assertEquals(new Position(4, 5), p.at("peers[0].priority"));   // left to its default
        assertEquals(new Position(11, 3), p.at("command"));
        assertEquals(new Position(11, 9), p.at("command.exec"));
        assertEquals(new Position(13, 5), p.at("command.env"));
        assertEquals(new Position(13, 8), p.at("command.env.A"));
        assertEquals(new Position(15, 3), p.at("timing.clock_drift"));   // left to its default
        assertEquals(0.01, l.config().timing().clockDrift());
        assertEquals("cluster", p.asMap().keySet().iterator().next());
        assertEquals(p.at("command.env.A"), p.asMap().get("command.env.A"));

        p = ConfigLoader.loadWithPositions(ConfigFiles.write(dir, MINIMAL + "command:\n  exec: [x]\n  env: ~\n"))
                .positions();
        assertEquals(new Position(12, 8), p.at("command.env"));
        p = ConfigLoader.loadWithPositions(ConfigFiles.write(dir, MINIMAL + "command:\n  exec: [x]\n")).positions();
        assertEquals(new Position(11, 3), p.at("command.env"));
    }

    // ---- the text: byte order mark, line breaks, what is printable ----

    private static byte[] bom(String text) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0xEF);
        b.write(0xBB);
        b.write(0xBF);
        b.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        return b.toByteArray();
    }

    @Test
    void aByteOrderMarkTakesNoColumn() throws IOException {
        assertEquals(at(1, 11, "control characters are not allowed in the file (got U+0001)"),
                ConfigFiles.errorOf(ConfigFiles.write(dir, bom("cluster: c\u0001\n"))));
    }

    @Test
    void carriageReturnsAloneEndLinesToTheLast() throws IOException {
        assertEquals(at(3, 8, "peers: must list every voter, this node included (got an empty list)"),
                error("cluster: c1\rnode: a\rpeers: []\r"));
    }

    @Test
    void aSyntaxErrorQuotesItsLineWithoutTheLineBreak() throws IOException {
        String last = error("cluster: c1\nnode: [a");
        assertTrue(last.startsWith(file() + ":2:9: invalid YAML: "), last);
        assertTrue(last.endsWith(" (got node: [a)"), last);
        String crlf = error("cluster: c1\r\nnode: [a\r\npeers: x\r\n");
        assertTrue(crlf.startsWith(file() + ":3:6: invalid YAML: "), crlf);
        assertTrue(crlf.endsWith(" (got peers: x)"), crlf);
    }

    @Test
    void everyPrintableCharacterAtTheEdgesOfItsRange() throws Exception {
        // ~, NBSP, the last before the surrogates, the first private use, U+FFFD, U+10000, U+10FFFF and NEL
        String edges = "# ~\u00a0\ud7ff\ue000\ufffd\ud800\udc00\udbff\udfff\u0085";
        assertEquals("c1", load(edges + MINIMAL).cluster());
        assertEquals(at(1, 3, "control characters are not allowed in the file (got U+007F)"), error("# \u007f\n" + MINIMAL));
        assertEquals(at(1, 3, "control characters are not allowed in the file (got U+009F)"), error("# \u009f\n" + MINIMAL));
        assertEquals(at(1, 3, "control characters are not allowed in the file (got U+FFFE)"), error("# \ufffe\n" + MINIMAL));
        assertEquals(at(1, 3, "control characters are not allowed in the file (got U+001F)"), error("# \u001f\n" + MINIMAL));
    }
}
