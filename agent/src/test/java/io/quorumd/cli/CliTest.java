package io.quorumd.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line in-process: exit statuses and messages as SPEC.md fixes them. */
class CliTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Cli.execute(args, new PrintWriter(o), new PrintWriter(e));
        return new Result(code, o.toString(), e.toString());
    }

    private Path config(String extra) throws Exception {
        Path f = tmp.resolve("q.yaml");
        Files.writeString(f, "cluster: c\nnode: a\nbind: 127.0.0.1\npeers:\n  - {id: a, host: 127.0.0.1, port: 47300}\n"
                + "state_dir: " + tmp.resolve("state") + "\ncontrol_socket: " + tmp.resolve("state/control.sock") + "\n" + extra);
        return f;
    }

    @Test
    void versionAndHelp() {
        Result v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("quorumd "), v.out());
        Result h = run("-h");
        assertEquals(0, h.code());
        for (String c : new String[] {"run", "check", "status", "leader", "step-down", "demo"}) {
            assertTrue(h.out().contains(c), "help lists " + c + ":\n" + h.out());
        }
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run("frobnicate").code());
        assertEquals(2, run("status", "--bogus").code());
        assertEquals(2, run().code());
    }

    @Test
    void checkPrintsResolvedSettingsWithDefaults() throws Exception {
        Result r = run("check", "-c", config("").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("election_timeout: 1s"), r.out());
        assertTrue(r.out().contains("heartbeat: 100ms"), r.out());
        assertTrue(r.out().contains("port: 47300"), r.out());
    }

    @Test
    void checkRefusesBadConfigWithLineAndColumn() throws Exception {
        Result r = run("check", "-c", config("timing:\n  heartbeat: 100\n").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().matches("(?s).*q\\.yaml:9:14: timing\\.heartbeat: .*\\(got 100\\).*"), r.err());
    }

    @Test
    void checkRefusesTheShippedPlaceholder() {
        Path shipped = Path.of("..", "etc", "quorumd.yaml");
        Result r = run("check", "-c", shipped.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(":1:1: cluster: required key is missing"), r.err());
    }

    @Test
    void missingConfigFile() {
        Result r = run("check", "-c", tmp.resolve("nope.yaml").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("quorumd: cannot read " + tmp.resolve("nope.yaml")), r.err());
    }

    @Test
    void noAgentExitsThree() throws Exception {
        Path c = config("");
        for (String cmd : new String[] {"status", "leader", "step-down"}) {
            Result r = run(cmd, "-c", c.toString());
            assertEquals(3, r.code(), cmd + ": " + r.err());
            assertTrue(r.err().contains("no agent answers"), r.err());
        }
    }

    @Test
    void configFromEnvironmentDefault() {
        // picocli resolves ${env:QUORUMD_CONFIG:-/etc/quorumd/quorumd.yaml}; without the variable the default shows
        if (System.getenv("QUORUMD_CONFIG") != null) return;
        Result h = run("check", "-h");
        assertTrue(h.out().contains("/etc/quorumd/quorumd.yaml"), h.out());
    }

    @Test
    void plainRunIsRecognisedExactlyAndEverythingElseGoesToPicocli() {
        assertEquals(Path.of("/x.yaml"), Cli.plainRun(new String[] {"run", "-c", "/x.yaml"}));
        assertEquals(Path.of("/x.yaml"), Cli.plainRun(new String[] {"run", "--config", "/x.yaml"}));
        assertEquals(Path.of("/x.yaml"), Cli.plainRun(new String[] {"run", "--config=/x.yaml"}));
        String env = System.getenv("QUORUMD_CONFIG");
        assertEquals(Path.of(env != null ? env : "/etc/quorumd/quorumd.yaml"), Cli.plainRun(new String[] {"run"}));
        for (String[] other : new String[][] {{}, {"check"}, {"check", "-c", "/x.yaml"}, {"run", "-h"}, {"run", "--help"},
                {"run", "-V"}, {"run", "--config"}, {"run", "-c", "-h"}, {"run", "--config="}, {"run", "-c", "/x", "more"},
                {"run", "--bogus"}, {"demo"}}) {
            assertEquals(null, Cli.plainRun(other), String.join(" ", other));
        }
    }

    /** A state file the agent cannot use is refused with exit 2 (the unit's RestartPreventExitStatus), not a crash loop. */
    @Test
    void runRefusesAStateFileWithATermBeyondTheLargest() throws Exception {
        Path c = config("");
        Files.createDirectories(tmp.resolve("state"));
        String body = "quorumd-state v1\nterm=" + (1L << 62) + "\nvoted_for=\n";
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.writeString(tmp.resolve("state/state"), body + String.format("crc32=%08x%n", crc.getValue()));
        Result r = run("run", "-c", c.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("quorumd: state file " + tmp.resolve("state/state") + " holds term " + (1L << 62)
                + ", beyond the largest term"), r.err());
        assertTrue(!Files.exists(tmp.resolve("state/control.sock")), "nothing was started");
    }

    /** The fast path for `run` answers bad input exactly as picocli's Run does. */
    @Test
    void runWithoutPicocliFailsLikeRunWithIt() throws Exception {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "cluster: c\nnode: a\npeers: 3\n");
        for (String[] args : new String[][] {{"run", "-c", tmp.resolve("nope.yaml").toString()},
                {"run", "--config=" + bad}, {"run", "--config", tmp.toString()}}) {
            assertTrue(Cli.plainRun(args) != null);
            Result fast = run(args);
            StringWriter o = new StringWriter();
            StringWriter e = new StringWriter();
            int code = Cli.withPicocli(args, new PrintWriter(o), new PrintWriter(e));
            assertEquals(new Result(code, o.toString(), e.toString()), fast, String.join(" ", args));
            assertEquals(2, fast.code(), fast.err());
            assertTrue(!fast.err().isEmpty());
        }
    }
}
