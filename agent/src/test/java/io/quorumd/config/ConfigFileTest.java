package io.quorumd.config;

import static io.quorumd.config.ConfigFiles.MINIMAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file before the schema: reading it, its size and encoding, YAML syntax, tags, aliases. */
class ConfigFileTest {
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("quorumd.yaml");
    }

    private String at(int line, int column, String rest) {
        return file() + ":" + line + ":" + column + ": " + rest;
    }

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String) out.writeBytes(((String) p).getBytes(StandardCharsets.UTF_8));
            else out.write((Integer) p);
        }
        return out.toByteArray();
    }

    // ---- cannot read ----

    @Test
    void aMissingFile() {
        Path f = dir.resolve("nope.yaml");
        assertEquals("quorumd: cannot read " + f + ": no such file or directory", ConfigFiles.errorOf(f));
    }

    @Test
    void aDirectory() {
        assertEquals("quorumd: cannot read " + dir + ": is a directory", ConfigFiles.errorOf(dir));
    }

    @Test
    void aPathThroughARegularFile() throws IOException {
        Path f = Files.writeString(dir.resolve("plain"), "x").resolve("quorumd.yaml");
        assertEquals("quorumd: cannot read " + f + ": not a directory", ConfigFiles.errorOf(f));
    }

    @Test
    void anUnreadableFile() throws IOException {
        Path f = ConfigFiles.write(dir, MINIMAL);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));
        if (!AsUser.isRoot()) {
            assertEquals("quorumd: cannot read " + f + ": permission denied", ConfigFiles.errorOf(f));
            return;
        }
        // root reads any file: ask as an unprivileged user (nobody), through a directory it may
        // enter, so that only the file's own mode can refuse it
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        AsUser.Result r = AsUser.run(AsUser.NOBODY, null, "check", "-c", f.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("quorumd: cannot read " + f + ": permission denied", r.err().lines().findFirst().orElse(""), r.err());
        // the control: the same file readable, the same user gets past reading it
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        AsUser.Result ok = AsUser.run(AsUser.NOBODY, null, "check", "-c", f.toString());
        assertFalse(ok.err().contains("cannot read " + f), ok.err());
    }

    // ---- size ----

    @Test
    void oneMebibyteIsTheLimit() throws IOException {
        // comment lines of 64 bytes: one single 1 MiB line also works, but SnakeYAML takes seconds on it
        byte[] exactly = new byte[1 << 20];
        Arrays.fill(exactly, (byte) '#');
        for (int i = 63; i < exactly.length; i += 64) exactly[i] = '\n';
        // at the limit the file is read: all comments, so the keys are missing
        assertEquals(at(1, 1, "cluster: required key is missing"),
                ConfigFiles.errorOf(ConfigFiles.write(dir, exactly)).lines().findFirst().orElseThrow());
        byte[] over = Arrays.copyOf(exactly, exactly.length + 1);
        over[over.length - 1] = '\n';
        assertEquals(at(1, 1, "the file is larger than 1 MiB; a quorumd config is a few dozen lines: check that this"
                + " is the right file (got 1048577 bytes)"), ConfigFiles.errorOf(ConfigFiles.write(dir, over)));
    }

    // ---- encoding ----

    @Test
    void aBadUtf8ByteIsReportedAtItsLine() throws IOException {
        assertEquals(at(2, 10, "the file is not valid UTF-8 here; save it as UTF-8 (got byte 0xE9)"),
                ConfigFiles.errorOf(ConfigFiles.write(dir, bytes("cluster: c1\nnode: caf", 0xE9, "\npeers: []\n"))));
        // columns count characters, not bytes
        assertEquals(at(3, 8, "the file is not valid UTF-8 here; save it as UTF-8 (got byte 0xFF)"),
                ConfigFiles.errorOf(ConfigFiles.write(dir, bytes("a: 1\r\nb: 2\nnode: \u00e9", 0xFF, "\n"))));
        // a sequence cut short at the end of the file
        assertEquals(at(1, 10, "the file is not valid UTF-8 here; save it as UTF-8 (got byte 0xE2)"),
                ConfigFiles.errorOf(ConfigFiles.write(dir, bytes("cluster: ", 0xE2, 0x82))));
    }

    @Test
    void controlCharactersAreRefused() throws IOException {
        assertEquals(at(2, 8, "control characters are not allowed in the file (got U+0007)"),
                ConfigFiles.error(dir, "cluster: c1\nnode: a\u0007\n"));
    }

    @Test
    void aByteOrderMarkAndNonAsciiTextAreFine() throws Exception {
        Config c = ConfigLoader.load(ConfigFiles.write(dir, bytes(0xEF, 0xBB, 0xBF, MINIMAL
                + "command:\n  exec: [/bin/echo, \"gr\u00fc\u00df \ud83d\ude00\"]\n")));
        assertEquals("gr\u00fc\u00df \ud83d\ude00", c.command().argv().get(1));
        // positions after a character outside the BMP count it once
        assertEquals(at(11, 26, "command.exec[2]: must be a string (got an empty list)"),
                ConfigFiles.error(dir, MINIMAL + "command:\n  exec: [/bin/echo, \"\ud83d\ude00\", []]\n"));
    }

    // ---- YAML syntax ----

    @Test
    void syntaxErrorsPointWhereTheParserStopped() throws IOException {
        assertEquals(at(2, 8, "invalid YAML: mapping values are not allowed here (got node: a: b)"),
                ConfigFiles.error(dir, "cluster: c1\nnode: a: b\n"));
        assertEquals(at(3, 1, "invalid YAML: found character '\\t(TAB)' that cannot start any token. (Do not use"
                + " \\t(TAB) for indentation) (while scanning for the next token) (got - id: a)"),
                ConfigFiles.error(dir, "cluster: c1\npeers:\n\t- id: a\n"));
        assertEquals(at(2, 1, "invalid YAML: expected ',' or ']', but got <stream end> (while parsing a flow sequence"
                + " at 1:8)"), ConfigFiles.error(dir, "peers: [a, b\n"));
        assertEquals(at(1, 10, "invalid YAML: found undefined alias nowhere (got cluster: *nowhere)"),
                ConfigFiles.error(dir, "cluster: *nowhere\n"));
    }

    @Test
    void onlyOneDocument() throws IOException {
        assertEquals(at(10, 1, "only one YAML document is allowed in the file (got ---)"),
                ConfigFiles.error(dir, MINIMAL + "---\ncluster: c2\n"));
    }

    // ---- tags ----

    @Test
    void tagsAreRefusedWithTheirKey() throws IOException {
        assertEquals(at(6, 11, "peers[0].port: YAML tags are not allowed; write the plain value without !!int"
                + " (got !!int)"), ConfigFiles.error(dir, MINIMAL.replaceFirst("40001", "!!int 40001")));
        assertEquals(at(3, 8, "peers: YAML tags are not allowed; write the plain value without !!seq (got !!seq)"),
                ConfigFiles.error(dir, MINIMAL.replace("peers:", "peers: !!seq")));
        assertEquals(String.join("\n",
                        at(1, 1, "cluster: YAML tags are not allowed; write the plain value without !!str (got !!str)"),
                        at(2, 7, "node: YAML tags are not allowed; write the plain value without !local (got !local)"),
                        at(10, 7, "bind: YAML tags are not allowed; write the plain value without ! (got !)"),
                        at(11, 4, "x: YAML tags are not allowed; write the plain value without"
                                + " !!python/object:os.system (got !!python/object:os.system)")),
                ConfigFiles.error(dir, "!!str " + MINIMAL.replace("node: a", "node: !local a")
                        + "bind: ! auto\nx: &a !!python/object:os.system [ls]\n"));
    }

    // ---- aliases ----

    private static String execWithAliases(int aliases) {
        return MINIMAL + "command:\n  exec: [/bin/echo, &v x" + ", *v".repeat(aliases) + "]\n";
    }

    @Test
    void fiftyAliasesAreAllowed() throws Exception {
        Config c = ConfigFiles.load(dir, execWithAliases(50));
        assertEquals(52, c.command().argv().size());
        assertTrue(c.command().argv().subList(1, 52).stream().allMatch("x"::equals));
    }

    @Test
    void theFiftyFirstAliasIsRefusedWhereItIs() throws IOException {
        int column = ("  exec: [/bin/echo, &v x" + ", *v".repeat(50) + ", ").length() + 1;
        assertEquals(at(11, column, "command.exec[52]: too many aliases: at most 50 are allowed in one file (got *v)"),
                ConfigFiles.error(dir, execWithAliases(51)));
    }

    @Test
    void anAliasBombIsRefusedBeforeItGrows() throws IOException {
        StringBuilder b = new StringBuilder(MINIMAL + "x: &a0 [lol, lol]\n");
        for (int i = 1; i <= 30; i++) b.append("x").append(i).append(": &a").append(i).append(" [*a").append(i - 1)
                .append(", *a").append(i - 1).append("]\n");
        // two aliases a line from line 11: the 51st is the first of line 36 (x26)
        assertEquals(at(36, 12, "x26[0]: too many aliases: at most 50 are allowed in one file (got *a25)"),
                ConfigFiles.error(dir, b.toString()));
    }

    @Test
    void aSelfReferenceIsOneWrongValue() throws IOException {
        assertEquals(at(3, 8, "peers: must be a list of every voter, this node included, each with id and host"
                + " (got a mapping)"), ConfigFiles.error(dir, "cluster: c1\nnode: a\npeers: &p {id: *p}\n"));
        assertEquals(at(4, 5, "peers[0]: must be a mapping with id and host (and optionally port, priority)"
                + " (got *p = a list)"), ConfigFiles.error(dir, "cluster: c1\nnode: a\npeers: &p\n  - *p\n"));
    }

    @Test
    void deepNestingIsRefusedWhereItGoesTooDeep() throws IOException {
        assertEquals(at(2, 23, "x" + "[0]".repeat(19) + ": nested more than 20 levels deep; a quorumd config needs"
                + " four"), ConfigFiles.error(dir, "cluster: c1\nx: " + "[".repeat(200) + "]".repeat(200) + "\n"));
    }

    @Test
    void keysInMessagesStayOnOneLine() throws IOException {
        String k = "k".repeat(300);
        assertEquals(at(2, 1, "k".repeat(77) + "...: unknown key; expected one of cluster, node, bind, security, peers, timing,"
                + " command, hooks, state_dir, control_socket, kv, log_level, metrics, self_fence (got " + "k".repeat(77) + "...)"),
                ConfigFiles.error(dir, MINIMAL.replace("cluster: c1\n", "cluster: c1\n" + k + ": 1\n")));
        assertEquals(at(10, 1, "a...: unknown key; expected one of cluster, node, bind, security, peers, timing, command,"
                + " hooks, state_dir, control_socket, kv, log_level, metrics, self_fence (got \"a\\nb\")"),
                ConfigFiles.error(dir, MINIMAL + "\"a\\nb\": 1\n"));
    }

    // ---- the file the packages ship ----

    private static final Path SHIPPED = Path.of("..", "etc", "quorumd.yaml");

    @Test
    void theShippedFileIsRefusedUntilTheOperatorWritesIt() {
        assertTrue(Files.isRegularFile(SHIPPED), SHIPPED.toAbsolutePath().toString());
        assertEquals(String.join("\n",
                SHIPPED + ":1:1: cluster: required key is missing",
                SHIPPED + ":1:1: node: required key is missing",
                SHIPPED + ":1:1: peers: required key is missing"), ConfigFiles.errorOf(SHIPPED));
    }

    @Test
    void theShippedFileIsSpecsExampleCommentedOut() throws Exception {
        List<String> lines = Files.readAllLines(SHIPPED);
        int first = lines.indexOf("#cluster: payments            # required; frames carrying another cluster name are dropped");
        assertTrue(first > 0, "the example starts with #cluster:");
        for (String l : lines) assertTrue(l.startsWith("#"), "every line is a comment: " + l);
        String uncommented = lines.subList(first, lines.size()).stream().map(l -> l.substring(1))
                .collect(Collectors.joining("\n", "", "\n"));
        assertEquals(ConfigFiles.SPEC_EXAMPLE, uncommented);
        assertEquals("payments", ConfigFiles.load(dir, uncommented).cluster());
    }
}
